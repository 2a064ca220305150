/* tail.h -- `joinedreview tail`: follow what joinedreviewd publishes and print
 * each consolidated review, due-date notice or statistics as one JSON line,
 * never missing or repeating a publication. The Clone pattern itself
 * (subscribe, snapshot, replay, fill gaps from the catch-up endpoint) is the
 * client library's, client/jr_subscriber.h.
 *
 * The protobuf-to-JSON conversion and the NHS number check belong to the
 * `joinedreview` command (joinedreview.c); it lends them here, so both
 * subcommands print the same JSON for the same message. */
#ifndef JR_TAIL_H
#define JR_TAIL_H

#include <stdbool.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

typedef struct {
    /* A message as a JSON object with the proto's field names; caller owns
     * the result (NULL when out of memory). */
    json_t *(*message_json)(const ProtobufCMessage *msg);
    /* An NHS number with or without spaces to its 10 digits in out; false
     * when it is not a valid NHS number. */
    bool (*nhs_normalise)(const char *in, char out[11]);
    /* Reads a CURVE key file (lines public-key = "..." and secret-key =
     * "...", 40 Z85 characters each); 0, or -1 after saying why. */
    int (*read_key_file)(const char *path, char pub[41], char sec[41]);
} jr_tail_helpers_t;

/* Runs `joinedreview tail`; argv[0] is "tail". helpers is borrowed. Returns
 * the exit status: 0 (done: --count, --idle-exit, SIGTERM or SIGINT), 2 on a
 * usage error or trouble (sockets, state file, standard output, a catch-up
 * request the daemon refused or never answered). */
int jr_tail_main(int argc, char **argv, const jr_tail_helpers_t *helpers);

#endif
