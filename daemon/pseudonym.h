/* pseudonym.h -- the pseudonymised copy of a publication, for dashboards
 * and analysts (DOMAIN.md, "What each funding stream receives": no
 * identifier and no free text).
 *
 * The copy is built field by field from what is known to be free of
 * identifiers, never by deleting what is not: a field added to the wire
 * contract later stays out of the pseudonymised feed until it is added here
 * on purpose. What it keeps:
 *  - the NHS number, as the hex HMAC-SHA256 of it under the pseudonym key
 *    (a stable pseudonym a dashboard can count and join on);
 *  - what the daemon itself computed or validated against a closed set:
 *    stream codes, topics, roles, priorities, calendar dates, counts, flags,
 *    notice keys, cycle, version and sequence numbers;
 *  - when a contribution happened, as its day only (00:00 UTC): a sender
 *    chooses occurred_at to the millisecond, enough to carry a number;
 *  - of the person's review preferences, the way and the needs (closed
 *    sets the daemon checked).
 * What it leaves out: every string a sender chose freely (what is working,
 * what is not, author names, source event ids, client ids, who revises or
 * approves the plan, the name the person wants to be called and the names
 * streams know them by, where they want the review, who to involve, the
 * language they speak, group keys), budgets (an amount to the penny is
 * close to an identifier; dashboards get totals by stream on the
 * statistics feed), what a review held found, and every publication other
 * than records and due notices (group suggestions name persons and places:
 * identifiable subscribers only). */
#ifndef JR_PSEUDONYM_H
#define JR_PSEUDONYM_H

#include <stddef.h>
#include <stdint.h>

#define JR_PSEUDONYM_KEY_LEN 32

/* The pseudonymised copy of a publication of topic "review" or
 * "notice.*". Caller owns *out. Returns 0; -1 when the topic has no
 * pseudonymised copy, the payload cannot be read, or memory runs out. */
int jr_pseudonym_publication(const char *topic, const uint8_t *payload, size_t len,
                             const uint8_t key[JR_PSEUDONYM_KEY_LEN], uint8_t **out,
                             size_t *out_len);

/* The pseudonym of an NHS number: 64 hex characters and a NUL. */
void jr_pseudonym_of(const char *nhs, const uint8_t key[JR_PSEUDONYM_KEY_LEN], char out[65]);

#endif
