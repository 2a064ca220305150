/* jr_clientsock.c -- see jr_clientsock.h. */
#include "jr_clientsock.h"

#include <errno.h>
#include <string.h>

#include <zmq.h>

void *jr_clientsock_context(void *borrowed, bool *own)
{
    *own = borrowed == NULL;
    return borrowed ? borrowed : zmq_ctx_new();
}

void jr_clientsock_context_end(void *ctx, bool own)
{
    if (!own || !ctx)
        return;
    while (zmq_ctx_term(ctx) < 0 && errno == EINTR)
        ;
}

static bool key_ok(const char *key)
{
    return key && strlen(key) == 40;
}

bool jr_clientsock_keys_ok(const char *server_key, const char *public_key, const char *secret_key)
{
    return !server_key || (key_ok(server_key) && key_ok(public_key) && key_ok(secret_key));
}

int jr_clientsock_curve(void *sock, const char *server_key, const char *public_key,
                        const char *secret_key)
{
    if (!server_key)
        return 0;
    if (!jr_clientsock_keys_ok(server_key, public_key, secret_key)) {
        errno = EINVAL;
        return -1;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key, 40) < 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, public_key, 40) < 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret_key, 40) < 0)
        return -1;
    return 0;
}
