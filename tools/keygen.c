/* keygen.c -- `joinedreview keygen NAME`: a CURVE key pair for the daemon, an
 * adapter or a subscriber.
 *
 * Writes NAME.key (public and secret key, mode 0600: give it only to the
 * program it names, e.g. as a systemd credential) and NAME.pub (the public
 * key alone: it goes in the daemon's allow-list, or, for the daemon's own
 * key, to every client). The shape is the CZMQ certificate's:
 *   public-key = "..."
 *   secret-key = "..." */
#include "keygen.h"

#include <stdio.h>
#include <zmq.h>

#include "keyfile.h"

int jr_keygen_main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: joinedreview keygen NAME   (writes NAME.key and NAME.pub)\n");
        return 2;
    }
    char pub[41], sec[41];
    if (!zmq_has("curve") || zmq_curve_keypair(pub, sec) != 0) {
        fprintf(stderr, "joinedreview keygen: this libzmq cannot make CURVE keys\n");
        return 2;
    }
    char err[4200];
    if (jr_keyfile_write_pair(argv[1], pub, sec, err, sizeof err) != 0) {
        fprintf(stderr, "joinedreview keygen: %s\n", err);
        return 2;
    }
    printf("%s\n", pub);
    return 0;
}
