/* html.h -- a page being written: a growable buffer with a ceiling, text
 * escaped on the way in, and the one layout every page shares.
 *
 * Everything that did not come from this program's own literals goes in
 * through jr_html_text() or jr_html_attr(), which escape & < > " ' so that
 * a statement holding markup shows as the characters it holds. Literal
 * markup goes in through jr_html_raw() / jr_html_rawf(), whose arguments
 * must be the program's own strings or numbers.
 *
 * A page that would grow past its ceiling is cut off and marked failed;
 * the server then answers 500 instead of sending half a page. */
#ifndef JR_HTML_H
#define JR_HTML_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data; /* owned; NUL-terminated */
    size_t len, cap, max;
    bool failed;
} jr_html_t;

/* An empty page of at most max bytes. */
void jr_html_init(jr_html_t *h, size_t max);
/* Frees the buffer; h is empty again. */
void jr_html_clear(jr_html_t *h);
/* Hands the buffer to the caller (who frees it) and leaves h empty. */
char *jr_html_take(jr_html_t *h, size_t *len);

void jr_html_raw(jr_html_t *h, const char *markup);
void jr_html_rawf(jr_html_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text content, escaped. NULL writes nothing. */
void jr_html_text(jr_html_t *h, const char *text);
/* An attribute value (inside double quotes), escaped the same way. */
void jr_html_attr(jr_html_t *h, const char *value);

/* "943 476 5919" from "9434765919" (out: 13 bytes); other input is copied. */
const char *jr_html_nhs(const char *nhs, char out[13]);

/* "1 October 2026" from "2026-10-01" (out: 24 bytes); other input copied. */
const char *jr_html_date(const char *iso, char out[24]);

/* What the layout needs to know about the signed-in account. */
typedef struct {
    const char *account; /* NULL: nobody is signed in */
    const char *role;    /* "review scheduler for SC, SP", already worded */
    const char *csrf;    /* the session's token for the sign-out form */
    bool nav_worklist, nav_desk, nav_aggregates;
} jr_html_who_t;

/* Opens the document: <html lang="en-GB">, the title, the stylesheet, the
 * refresh script when refresh_s > 0, the header with the account and the
 * sign-out form, and <main>. body_class may be NULL. */
void jr_html_begin(jr_html_t *h, const char *title, const jr_html_who_t *who,
                   const char *body_class, int refresh_s);
/* Closes <main> and the document. */
void jr_html_end(jr_html_t *h);

#endif
