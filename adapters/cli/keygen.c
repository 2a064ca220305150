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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static int write_file(const char *path, mode_t mode, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        fprintf(stderr, "joinedreview keygen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
    if (close(fd) != 0 || rc != 0) {
        fprintf(stderr, "joinedreview keygen: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

int jr_cli_keygen(int argc, char **argv)
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
    char path[4096], text[256];
    snprintf(path, sizeof path, "%s.key", argv[1]);
    snprintf(text, sizeof text,
             "# joinedreview CURVE key pair: SECRET, give it only to the program it names\n"
             "public-key = \"%s\"\nsecret-key = \"%s\"\n",
             pub, sec);
    if (write_file(path, 0600, text) != 0) {
        return 2;
    }
    snprintf(path, sizeof path, "%s.pub", argv[1]);
    snprintf(text, sizeof text, "# joinedreview CURVE public key\npublic-key = \"%s\"\n", pub);
    if (write_file(path, 0644, text) != 0) {
        return 2;
    }
    printf("%s\n", pub);
    return 0;
}
