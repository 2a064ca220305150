/* jr_clientsock.h -- what the client library's modules share about ZeroMQ:
 * the context, borrowed or their own, and CURVE keys on a socket. Internal
 * to libjr_client: programs use jr_client.h and jr_subscriber.h. */
#ifndef JR_CLIENTSOCK_H
#define JR_CLIENTSOCK_H

#include <stdbool.h>

/* `borrowed` when given, else a new context (and *own is set). NULL, with
 * errno, when one cannot be made. */
void *jr_clientsock_context(void *borrowed, bool *own);

/* Ends a context jr_clientsock_context() made (own), retrying after EINTR;
 * a borrowed one is left alone. Accepts NULL. */
void jr_clientsock_context_end(void *ctx, bool own);

/* True when the keys make a CURVE client: none at all (plain TCP), or the
 * daemon's public key and this client's pair, 40 Z85 characters each. */
bool jr_clientsock_keys_ok(const char *server_key, const char *public_key, const char *secret_key);

/* Sets the keys on sock when server_key is given (checked with
 * jr_clientsock_keys_ok() first). 0, or -1 with errno. */
int jr_clientsock_curve(void *sock, const char *server_key, const char *public_key,
                        const char *secret_key);

#endif
