/* request.h -- one HTTP request as the pages see it, and the answer they
 * build. The server (server.c) fills the request, calls the page, and turns
 * the answer into the HTTP response with the security headers every answer
 * carries. Pages never touch libmicrohttpd themselves. */
#ifndef JR_REQUEST_H
#define JR_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "html.h"
#include "sessions.h"

struct MHD_Connection;

/* The fields of the one form the service takes (sign-in, sign-out); each
 * bounded, longer values are cut and the form refused. */
typedef struct {
    char name[JR_ACCOUNT_NAME_MAX + 1];
    char password[256];
    char csrf[JR_SESSION_LOGIN_LEN + 1];
    bool overlong; /* a field was longer than its room */
} jr_form_t;

typedef struct {
    jr_app_t *app;
    struct MHD_Connection *conn;
    const char *method; /* "GET", "HEAD", "POST" */
    const char *path;
    const jr_session_t *session; /* NULL: nobody is signed in */
    char address[64];            /* the client's address, as text */
    const jr_form_t *form;       /* POST only */
} jr_req_t;

#define JR_RESP_COOKIES 3

typedef struct {
    unsigned status;
    jr_html_t body;
    const char *type;  /* Content-Type; NULL: text/html */
    const char *fixed; /* a body of static storage instead of body (assets) */
    size_t fixed_len;
    bool cacheable;     /* assets: may be cached; pages: never */
    char location[256]; /* a redirect's target */
    char cookies[JR_RESP_COOKIES][400];
    size_t n_cookies;
    char retry_after[16];
    const char *www_authenticate; /* a 401's challenge */
} jr_resp_t;

/* A query-string argument, or NULL. Borrowed for the request. */
const char *jr_req_arg(const jr_req_t *req, const char *name);
/* A request header, or NULL. */
const char *jr_req_header(const jr_req_t *req, const char *name);
/* A cookie's value, or NULL. */
const char *jr_req_cookie(const jr_req_t *req, const char *name);

/* The name a cookie has: "__Host-" first under TLS, where the browser then
 * holds it to Secure, Path=/ and this host alone. */
void jr_req_cookie_name(const jr_req_t *req, const char *base, char *out, size_t len);

/* Adds a Set-Cookie: name=value; Path=/; HttpOnly; SameSite=Strict (and
 * Secure under TLS); max_age_s < 0 leaves it for the browser session, 0
 * deletes it. */
void jr_resp_cookie(jr_resp_t *resp, const jr_req_t *req, const char *base, const char *value,
                    int max_age_s);

/* A 303 to location (a path of this service). */
void jr_resp_redirect(jr_resp_t *resp, const char *location);

#endif
