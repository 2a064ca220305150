/* server.h -- joinedreview-web's HTTP(S) server: libmicrohttpd with its own
 * threads, the bounds a hostile client meets, the routes, and the headers
 * every answer carries.
 *
 * Bounds (webcfg.h names the keys): connections at once, per address, an
 * idle timeout, memory per connection (which bounds the request line and
 * headers: beyond it libmicrohttpd answers 431 or 413 by itself), the size
 * of a form, the size of a page. TLS (GnuTLS, TLS 1.2 and 1.3 only) with
 * the certificate and key read into memory at start-up; plain HTTP only in
 * development on a loopback address.
 *
 * Headers on every answer: a Content-Security-Policy with no inline script
 * or style and frame-ancestors 'none', X-Content-Type-Options: nosniff,
 * Referrer-Policy: no-referrer, X-Frame-Options: DENY, Cache-Control:
 * no-store (pages hold personal data), and Strict-Transport-Security under
 * TLS. */
#ifndef JR_SERVER_H
#define JR_SERVER_H

#include "app.h"

typedef struct jr_server jr_server_t;

/* Starts serving app (borrowed: must outlive the server). NULL with err. */
jr_server_t *jr_server_start(jr_app_t *app, char *err, size_t errlen);

/* The port it listens on. */
unsigned jr_server_port(const jr_server_t *s);

void jr_server_stop(jr_server_t **s_p);

#endif
