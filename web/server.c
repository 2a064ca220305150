/* server.c -- see server.h. */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "keyfile.h"
#include "log.h"
#include "page.h"

enum { PEM_MAX = 65536 };

struct jr_server {
    struct MHD_Daemon *mhd;
    char *cert, *key; /* PEM, held while the server runs */
    unsigned port;
};

/* What one connection holds between the calls for one request. */
typedef struct {
    struct MHD_PostProcessor *pp;
    jr_form_t form;
    size_t received;
    bool too_big, bad_type;
} conn_t;

static const char g_csp[] = "default-src 'none'; style-src 'self'; script-src 'self'; "
                            "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                            "base-uri 'none'";

static void field(char *to, size_t room, const char *data, uint64_t off, size_t size,
                  bool *overlong)
{
    if (off + size >= room) {
        *overlong = true;
        return;
    }
    memcpy(to + off, data, size);
    to[off + size] = '\0';
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
    conn_t *st = cls;
    (void)kind;
    (void)filename;
    (void)content_type;
    (void)transfer_encoding;
    if (strcmp(key, "name") == 0) {
        field(st->form.name, sizeof st->form.name, data, off, size, &st->form.overlong);
    } else if (strcmp(key, "password") == 0) {
        field(st->form.password, sizeof st->form.password, data, off, size, &st->form.overlong);
    } else if (strcmp(key, "csrf") == 0) {
        field(st->form.csrf, sizeof st->form.csrf, data, off, size, &st->form.overlong);
    }
    return MHD_YES; /* other fields are ignored */
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    conn_t *st = *con_cls;
    if (st != NULL) {
        if (st->pp != NULL) {
            MHD_destroy_post_processor(st->pp);
        }
        sodium_memzero(st, sizeof *st); /* the password */
        free(st);
        *con_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    jr_log(JR_LOG_INFO, "http", "%s", line);
}

static void home(jr_req_t *req, jr_resp_t *resp)
{
    switch (req->session->account.role) {
    case JR_ACCOUNT_DATA_OFFICER:
        jr_resp_redirect(resp, "/desk");
        return;
    case JR_ACCOUNT_ANALYST:
        jr_resp_redirect(resp, "/aggregates");
        return;
    default:
        jr_resp_redirect(resp, "/worklist");
        return;
    }
}

static void route(jr_req_t *req, jr_resp_t *resp)
{
    const char *p = req->path;
    bool post = strcmp(req->method, "POST") == 0;
    if (strncmp(p, "/static/", 8) == 0 && !post) {
        resp->fixed = jr_assets_find(p, &resp->fixed_len, &resp->type);
        resp->cacheable = resp->fixed != NULL;
        if (resp->fixed == NULL) {
            jr_page_error(req, resp, 404, "Not found", "There is no such file.");
        }
        return;
    }
    if (strcmp(p, "/login") == 0) {
        jr_page_login(req, resp);
        return;
    }
    if (strcmp(p, "/logout") == 0) {
        if (!post) {
            jr_page_error(req, resp, 405, "Use the Sign out button", "Sign out with the button.");
            return;
        }
        jr_page_logout(req, resp);
        return;
    }
    if (post) {
        jr_page_error(req, resp, 405, "Not a form", "Only the sign-in and sign-out forms post.");
        return;
    }
    if (strcmp(p, "/metrics") == 0) {
        jr_page_metrics(req, resp);
        return;
    }
    if (strncmp(p, "/fhir/", 6) == 0) {
        jr_page_fhir(req, resp, p + 6); /* answers 401 itself: an API, not a page */
        return;
    }
    if (req->session == NULL) {
        jr_resp_redirect(resp, "/login"); /* no session: the sign-in page */
        return;
    }
    if (strcmp(p, "/") == 0) {
        home(req, resp);
    } else if (strcmp(p, "/worklist") == 0) {
        jr_page_worklist(req, resp);
    } else if (strncmp(p, "/person/", 8) == 0) {
        char nhs[32];
        const char *rest = p + 8;
        size_t n = strcspn(rest, "/");
        if (n < sizeof nhs && strcmp(rest + n, "/pack") == 0) {
            snprintf(nhs, sizeof nhs, "%.*s", (int)n, rest);
            jr_page_pack(req, resp, nhs);
        } else if (rest[n] == '\0') {
            jr_page_review(req, resp, rest);
        } else {
            jr_page_error(req, resp, 404, "Not found", "There is no such page.");
        }
    } else if (strcmp(p, "/desk") == 0) {
        jr_page_desk(req, resp);
    } else if (strcmp(p, "/aggregates") == 0) {
        jr_page_aggregates(req, resp);
    } else {
        jr_page_error(req, resp, 404, "Not found", "There is no such page.");
    }
}

static enum MHD_Result send_resp(jr_app_t *app, struct MHD_Connection *c, jr_resp_t *resp)
{
    if (resp->body.failed) {
        jr_html_clear(&resp->body);
        resp->status = 500;
        resp->fixed = "The page was too large to send.\n";
        resp->fixed_len = strlen(resp->fixed);
        resp->type = "text/plain; charset=utf-8";
        resp->n_cookies = 0;
    }
    struct MHD_Response *r;
    if (resp->fixed != NULL) {
        r = MHD_create_response_from_buffer(resp->fixed_len, (void *)resp->fixed,
                                            MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = 0;
        char *body = jr_html_take(&resp->body, &len);
        r = MHD_create_response_from_buffer(len, body ? body : (char *)"",
                                            body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (r == NULL) {
            free(body);
        }
    }
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type",
                            resp->type ? resp->type : "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy", g_csp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    MHD_add_response_header(r, "Cache-Control",
                            resp->cacheable ? "private, max-age=3600" : "no-store");
    if (app->tls) {
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    }
    if (resp->location[0] != '\0') {
        MHD_add_response_header(r, "Location", resp->location);
    }
    if (resp->retry_after[0] != '\0') {
        MHD_add_response_header(r, "Retry-After", resp->retry_after);
    }
    if (resp->www_authenticate != NULL) {
        MHD_add_response_header(r, "WWW-Authenticate", resp->www_authenticate);
    }
    for (size_t i = 0; i < resp->n_cookies; i++) {
        MHD_add_response_header(r, "Set-Cookie", resp->cookies[i]);
    }
    jr_app_count(app, resp->status);
    enum MHD_Result rc = MHD_queue_response(c, resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

/* A short answer before the body is read (too large, wrong type). */
static enum MHD_Result refuse(jr_app_t *app, struct MHD_Connection *c, unsigned status,
                              const char *text)
{
    jr_resp_t resp = {.status = status,
                      .fixed = text,
                      .fixed_len = strlen(text),
                      .type = "text/plain; charset=utf-8"};
    return send_resp(app, c, &resp);
}

static void client_address(struct MHD_Connection *c, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)len);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)len);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    jr_app_t *app = cls;
    (void)version;
    bool post = strcmp(method, "POST") == 0;
    conn_t *st = *con_cls;
    if (st == NULL) {
        if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            return refuse(app, c, 405, "GET, HEAD and POST only.\n");
        }
        st = calloc(1, sizeof *st);
        if (st == NULL) {
            return MHD_NO;
        }
        *con_cls = st;
        if (post) {
            /* Refused before a byte of the body is read when it says it is
             * too large or not a form. */
            const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
            if (len != NULL &&
                strtoull(len, NULL, 10) > (unsigned long long)app->cfg->post_max_bytes) {
                return refuse(app, c, 413, "The form is too large.\n");
            }
            if (type == NULL || strncmp(type, "application/x-www-form-urlencoded", 33) != 0) {
                return refuse(app, c, 415, "Forms only.\n");
            }
            st->pp = MHD_create_post_processor(c, 1024, on_field, st);
            if (st->pp == NULL) {
                return refuse(app, c, 400, "Not a form.\n");
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        st->received += *upload_data_size;
        if (st->received > (size_t)app->cfg->post_max_bytes) {
            st->too_big = true;
        } else if (st->pp != NULL &&
                   MHD_post_process(st->pp, upload_data, *upload_data_size) != MHD_YES) {
            st->form.overlong = true;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_big) {
        return refuse(app, c, 413, "The form is too large.\n");
    }

    jr_req_t req = {.app = app, .conn = c, .method = method, .path = url};
    client_address(c, req.address, sizeof req.address);
    jr_session_t session;
    char cookie[64];
    jr_req_cookie_name(&req, "jr_session", cookie, sizeof cookie);
    const char *sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, cookie);
    if (sid != NULL && jr_sessions_get(app->sessions, sid, jr_clock_mono_ms(), &session) == 0) {
        req.session = &session;
    }
    req.form = post ? &st->form : NULL;
    jr_resp_t resp = {.status = 200};
    jr_html_init(&resp.body, (size_t)app->cfg->page_max_bytes);
    route(&req, &resp);
    enum MHD_Result rc = send_resp(app, c, &resp);
    jr_html_clear(&resp.body);
    jr_log(JR_LOG_DEBUG, "http", "%s %s %s %u", req.address, method, url, resp.status);
    sodium_memzero(&session, sizeof session);
    return rc;
}

static char *read_pem(const char *path, bool secret, char *err, size_t errlen)
{
    FILE *f = secret ? jr_keyfile_open_secret(path, err, errlen) : fopen(path, "rb");
    if (f == NULL) {
        if (!secret) {
            snprintf(err, errlen, "%s: cannot open", path);
        }
        return NULL;
    }
    char *buf = malloc(PEM_MAX + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n == 0 || n > PEM_MAX) {
        snprintf(err, errlen, "%s: empty, or larger than 64 KiB", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

jr_server_t *jr_server_start(jr_app_t *app, char *err, size_t errlen)
{
    const jr_webcfg_t *cfg = app->cfg;
    jr_server_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)cfg->port)};
    bool v6 = inet_pton(AF_INET, cfg->listen_address, &a4.sin_addr) != 1;
    if (v6 && inet_pton(AF_INET6, cfg->listen_address, &a6.sin6_addr) != 1) {
        snprintf(err, errlen, "listen_address '%s' is not an address", cfg->listen_address);
        free(s);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem opts[16];
    size_t n = 0;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
    OPT(MHD_OPTION_SOCK_ADDR, 0, v6 ? (void *)&a6 : (void *)&a4);
    OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_connections, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s, NULL);
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory_bytes, NULL);
    OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL);
    OPT(MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL);
    if (!cfg->plaintext_development) {
        s->cert = read_pem(cfg->tls_cert_file, false, err, errlen);
        s->key = s->cert ? read_pem(cfg->tls_key_file, true, err, errlen) : NULL;
        if (s->key == NULL) {
            free(s->cert);
            free(s);
            return NULL;
        }
        flags |= MHD_USE_TLS;
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->key);
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
            (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE");
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    app->tls = !cfg->plaintext_development;
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, app, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
    if (s->mhd == NULL) {
        snprintf(err, errlen,
                 "cannot listen on %s port %d (in use, or the TLS files are not a "
                 "certificate and its key)",
                 cfg->listen_address, cfg->port);
        jr_server_stop(&s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : (unsigned)cfg->port;
    return s;
}

unsigned jr_server_port(const jr_server_t *s)
{
    return s ? s->port : 0;
}

void jr_server_stop(jr_server_t **s_p)
{
    if (s_p == NULL || *s_p == NULL) {
        return;
    }
    jr_server_t *s = *s_p;
    if (s->mhd != NULL) {
        MHD_stop_daemon(s->mhd);
    }
    if (s->key != NULL) {
        sodium_memzero(s->key, strlen(s->key));
    }
    free(s->key);
    free(s->cert);
    free(s);
    *s_p = NULL;
}
