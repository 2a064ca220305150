/* keygen.h -- `joinedreview keygen`. */
#ifndef JR_KEYGEN_H
#define JR_KEYGEN_H

/* argv[0] is "keygen". Returns the exit status. */
int jr_keygen_main(int argc, char **argv);

#endif
