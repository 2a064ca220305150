/* request.c -- see request.h. */
#include "request.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

const char *jr_req_arg(const jr_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *jr_req_header(const jr_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *jr_req_cookie(const jr_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

void jr_req_cookie_name(const jr_req_t *req, const char *base, char *out, size_t len)
{
    snprintf(out, len, "%s%s", req->app->tls ? "__Host-" : "", base);
}

void jr_resp_cookie(jr_resp_t *resp, const jr_req_t *req, const char *base, const char *value,
                    int max_age_s)
{
    if (resp->n_cookies == JR_RESP_COOKIES) {
        return;
    }
    char name[64], age[32] = "";
    jr_req_cookie_name(req, base, name, sizeof name);
    if (max_age_s >= 0) {
        snprintf(age, sizeof age, "; Max-Age=%d", max_age_s);
    }
    snprintf(resp->cookies[resp->n_cookies++], sizeof resp->cookies[0],
             "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name, value,
             req->app->tls ? "; Secure" : "", age);
}

void jr_resp_redirect(jr_resp_t *resp, const char *location)
{
    resp->status = 303;
    snprintf(resp->location, sizeof resp->location, "%s", location);
}
