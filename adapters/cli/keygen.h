/* keygen.h -- `joinedreview keygen`. */
#ifndef JR_CLI_KEYGEN_H
#define JR_CLI_KEYGEN_H

/* argv[0] is "keygen". Returns the exit status. */
int jr_cli_keygen(int argc, char **argv);

#endif
