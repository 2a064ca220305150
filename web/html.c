/* html.c -- see html.h. */
#include "html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

void jr_html_init(jr_html_t *h, size_t max)
{
    memset(h, 0, sizeof *h);
    h->max = max;
}

void jr_html_clear(jr_html_t *h)
{
    free(h->data);
    size_t max = h->max;
    jr_html_init(h, max);
}

char *jr_html_take(jr_html_t *h, size_t *len)
{
    char *d = h->data;
    *len = h->len;
    h->data = NULL;
    h->len = h->cap = 0;
    return d;
}

/* Room for n more bytes and the NUL; false (and failed) beyond the ceiling. */
static bool room(jr_html_t *h, size_t n)
{
    if (h->failed) {
        return false;
    }
    if (h->len + n + 1 > h->max) {
        h->failed = true;
        return false;
    }
    if (h->len + n + 1 <= h->cap) {
        return true;
    }
    size_t cap = h->cap ? h->cap : 4096;
    while (cap < h->len + n + 1) {
        cap *= 2;
    }
    if (cap > h->max) {
        cap = h->max;
    }
    char *d = realloc(h->data, cap);
    if (d == NULL) {
        h->failed = true;
        return false;
    }
    h->data = d;
    h->cap = cap;
    return true;
}

static void append(jr_html_t *h, const char *s, size_t n)
{
    if (room(h, n)) {
        memcpy(h->data + h->len, s, n);
        h->len += n;
        h->data[h->len] = '\0';
    }
}

void jr_html_raw(jr_html_t *h, const char *markup)
{
    append(h, markup, strlen(markup));
}

void jr_html_rawf(jr_html_t *h, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        h->failed = true;
        return;
    }
    append(h, buf, (size_t)n);
}

void jr_html_text(jr_html_t *h, const char *text)
{
    if (text == NULL) {
        return;
    }
    const char *run = text;
    for (const char *c = text;; c++) {
        const char *rep = NULL;
        switch (*c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\0':
            append(h, run, (size_t)(c - run));
            return;
        default:
            continue;
        }
        append(h, run, (size_t)(c - run));
        jr_html_raw(h, rep);
        run = c + 1;
    }
}

void jr_html_attr(jr_html_t *h, const char *value)
{
    jr_html_text(h, value); /* the same five characters are enough inside "..." */
}

const char *jr_html_nhs(const char *nhs, char out[13])
{
    if (nhs != NULL && strlen(nhs) == 10 && strspn(nhs, "0123456789") == 10) {
        snprintf(out, 13, "%.3s %.3s %.4s", nhs, nhs + 3, nhs + 6);
    } else {
        snprintf(out, 13, "%s", nhs ? nhs : "");
    }
    return out;
}

const char *jr_html_date(const char *iso, char out[24])
{
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    jr_day_t day;
    if (iso == NULL || jr_text_parse_date(iso, &day) != 0) {
        snprintf(out, 24, "%s", iso ? iso : "");
        return out;
    }
    int y;
    unsigned m, d;
    jr_text_civil_from_day(day, &y, &m, &d);
    snprintf(out, 24, "%u %s %d", d, months[m - 1], y);
    return out;
}

void jr_html_begin(jr_html_t *h, const char *title, const jr_html_who_t *who,
                   const char *body_class, int refresh_s)
{
    jr_html_raw(h, "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>");
    jr_html_text(h, title);
    jr_html_raw(h,
                " - joinedreview</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n");
    if (refresh_s > 0) {
        /* The script reads its interval from the body: no inline script, so
         * the Content-Security-Policy can forbid every inline script. */
        jr_html_raw(h, "<script src=\"/static/refresh.js\" defer></script>\n");
    }
    jr_html_raw(h, "</head>\n<body");
    if (body_class != NULL) {
        jr_html_raw(h, " class=\"");
        jr_html_attr(h, body_class);
        jr_html_raw(h, "\"");
    }
    if (refresh_s > 0) {
        jr_html_rawf(h, " data-refresh=\"%d\"", refresh_s);
    }
    jr_html_raw(h,
                ">\n<a class=\"skip\" href=\"#main\">Skip to the content</a>\n"
                "<header class=\"site\">\n<p class=\"brand\"><a href=\"/\">joinedreview</a></p>\n");
    if (who != NULL && who->account != NULL) {
        jr_html_raw(h, "<nav aria-label=\"Pages\"><ul>");
        if (who->nav_worklist) {
            jr_html_raw(h, "<li><a href=\"/worklist\">Worklist</a></li>");
        }
        if (who->nav_desk) {
            jr_html_raw(h, "<li><a href=\"/desk\">Data officer's desk</a></li>");
        }
        if (who->nav_aggregates) {
            jr_html_raw(h, "<li><a href=\"/aggregates\">Aggregates</a></li>");
        }
        jr_html_raw(h, "</ul></nav>\n<form class=\"signout\" method=\"post\" action=\"/logout\">"
                       "<input type=\"hidden\" name=\"csrf\" value=\"");
        jr_html_attr(h, who->csrf);
        jr_html_raw(h, "\"><p>Signed in as <strong>");
        jr_html_text(h, who->account);
        jr_html_raw(h, "</strong>, ");
        jr_html_text(h, who->role);
        jr_html_raw(h, " <button type=\"submit\">Sign out</button></p></form>\n");
    }
    jr_html_raw(h, "</header>\n<main id=\"main\">\n");
}

void jr_html_end(jr_html_t *h)
{
    jr_html_raw(h, "</main>\n</body>\n</html>\n");
}
