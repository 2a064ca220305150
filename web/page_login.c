/* page_login.c -- signing in and out.
 *
 * Sign-in checks, in order: the form's token against its cookie (a form
 * posted from elsewhere has neither); whether the account or the address is
 * paused after repeated failures (then the password is not even checked);
 * the password, with argon2id (crypto_pwhash_str_verify), also when the
 * account does not exist, so that both cost the same. A failure counts
 * against the account and the address alike. */
#include "page.h"

#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static void form(jr_req_t *req, jr_resp_t *resp, const char *problem)
{
    /* The token the browser already holds, while it is good: a second tab,
     * or a page loaded twice, must not leave the first form stale. */
    char token[JR_SESSION_LOGIN_LEN + 1], name[64];
    jr_req_cookie_name(req, "jr_login", name, sizeof name);
    const char *held = jr_req_cookie(req, name);
    int64_t now = jr_clock_mono_ms();
    if (held != NULL && jr_sessions_login_token_ok(req->app->sessions, held, held,
                                                   now + JR_SESSION_LOGIN_TTL_MS / 2)) {
        snprintf(token, sizeof token, "%s", held);
    } else {
        jr_sessions_login_token(req->app->sessions, now, token);
        jr_resp_cookie(resp, req, "jr_login", token, JR_SESSION_LOGIN_TTL_MS / 1000);
    }
    jr_html_t *h = &resp->body;
    jr_page_begin(req, resp, "Sign in", NULL, 0);
    jr_html_raw(h, "<h1>Sign in</h1>\n");
    if (problem != NULL) {
        jr_html_raw(h, "<p class=\"problem\" role=\"alert\">");
        jr_html_text(h, problem);
        jr_html_raw(h, "</p>\n");
    }
    jr_html_raw(h, "<form method=\"post\" action=\"/login\" class=\"signin\">\n"
                   "<input type=\"hidden\" name=\"csrf\" value=\"");
    jr_html_attr(h, token);
    jr_html_raw(h, "\">\n<p><label for=\"name\">Name</label>\n"
                   "<input id=\"name\" name=\"name\" autocomplete=\"username\" required "
                   "maxlength=\"64\"></p>\n"
                   "<p><label for=\"password\">Password</label>\n"
                   "<input id=\"password\" name=\"password\" type=\"password\" "
                   "autocomplete=\"current-password\" required maxlength=\"255\"></p>\n"
                   "<p><button type=\"submit\">Sign in</button></p>\n</form>\n");
    jr_html_end(h);
}

static bool check_password(jr_app_t *app, const jr_account_t *a, const char *password)
{
    /* At most password_checks at once: each takes the memory its hash names. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    while (sem_timedwait(&app->password_checks, &until) != 0) {
        if (errno != EINTR) {
            return false;
        }
    }
    const char *hash = a != NULL ? a->hash : app->dummy_hash;
    bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && a != NULL;
    sem_post(&app->password_checks);
    return ok;
}

static void sign_in(jr_req_t *req, jr_resp_t *resp)
{
    jr_app_t *app = req->app;
    const jr_form_t *f = req->form;
    char cookie_name[64];
    jr_req_cookie_name(req, "jr_login", cookie_name, sizeof cookie_name);
    int64_t now = jr_clock_mono_ms();
    if (f == NULL || f->overlong ||
        !jr_sessions_login_token_ok(app->sessions, f->csrf, jr_req_cookie(req, cookie_name), now)) {
        jr_log(JR_LOG_DEBUG, "login", "form token refused (form %zu chars, cookie %s)",
               f ? strlen(f->csrf) : 0, jr_req_cookie(req, cookie_name) ? "sent" : "missing");
        resp->status = 400;
        form(req, resp, "The sign-in form had expired. Please sign in again.");
        return;
    }
    char by_account[JR_ACCOUNT_NAME_MAX + 16], by_address[96];
    snprintf(by_account, sizeof by_account, "account:%s", f->name);
    snprintf(by_address, sizeof by_address, "address:%s", req->address);
    int64_t wait = jr_throttle_wait_ms(app->throttle, by_account, now);
    int64_t wait_addr = jr_throttle_wait_ms(app->throttle, by_address, now);
    wait = wait > wait_addr ? wait : wait_addr;
    if (wait > 0) {
        atomic_fetch_add(&app->logins_paused, 1);
        resp->status = 429;
        snprintf(resp->retry_after, sizeof resp->retry_after, "%d",
                 (int)((wait + 999) / 1000 % 1000000));
        char msg[160];
        snprintf(msg, sizeof msg,
                 "Too many failed sign-ins. Please wait %lld seconds before trying again.",
                 (long long)(wait + 999) / 1000);
        form(req, resp, msg);
        return;
    }
    const jr_account_t *a = jr_accounts_find(app->accounts, f->name);
    if (!check_password(app, a, f->password)) {
        jr_throttle_failed(app->throttle, by_account, now);
        jr_throttle_failed(app->throttle, by_address, now);
        atomic_fetch_add(&app->logins_failed, 1);
        jr_log(JR_LOG_NOTICE, "login", "failed sign-in as '%.64s' from %s", f->name, req->address);
        resp->status = 200;
        form(req, resp, "The name or the password is not right.");
        return;
    }
    jr_throttle_cleared(app->throttle, by_account);
    jr_throttle_cleared(app->throttle, by_address);
    jr_session_t s;
    jr_sessions_open(app->sessions, a, now, &s);
    atomic_fetch_add(&app->logins_ok, 1);
    jr_log(JR_LOG_INFO, "login", "%s signed in from %s", a->name, req->address);
    jr_resp_cookie(resp, req, "jr_session", s.id, -1);
    jr_resp_cookie(resp, req, "jr_login", "", 0);
    sodium_memzero(&s, sizeof s);
    jr_resp_redirect(resp, "/");
}

void jr_page_login(jr_req_t *req, jr_resp_t *resp)
{
    if (strcmp(req->method, "POST") == 0) {
        sign_in(req, resp);
        return;
    }
    if (req->session != NULL) {
        jr_resp_redirect(resp, "/");
        return;
    }
    form(req, resp, NULL);
}

void jr_page_logout(jr_req_t *req, jr_resp_t *resp)
{
    if (req->session == NULL) {
        jr_resp_redirect(resp, "/login");
        return;
    }
    if (req->form == NULL || !jr_sessions_csrf_ok(req->session, req->form->csrf)) {
        jr_page_error(req, resp, 400, "Sign-out refused",
                      "The sign-out form did not come from this page. Use the Sign out button.");
        return;
    }
    jr_sessions_close(req->app->sessions, req->session->id);
    jr_resp_cookie(resp, req, "jr_session", "", 0);
    jr_resp_redirect(resp, "/login");
}
