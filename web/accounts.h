/* accounts.h -- who may sign in to joinedreview-web, and as what.
 *
 * The accounts file, one account per line, fields separated by spaces:
 *
 *     # NAME   ROLE            SCOPE   PASSWORD-HASH
 *     priya    scheduler       SC,SP   $argon2id$v=19$m=65536,t=2,p=1$...
 *     adam     stream-officer  ATW     $argon2id$...
 *     dora     data-officer    SP      $argon2id$...
 *     ana      analyst         -       $argon2id$...
 *
 * NAME is 1-64 of A-Z a-z 0-9 . _ @ -. ROLE is one of the four roles.
 * SCOPE: for a scheduler, the lead organisations they schedule for (stream
 * codes, comma-separated: they see the persons whose current review those
 * streams lead); for a stream or data officer, their one stream; for an
 * analyst "-". Every code must be a stream the configuration knows. The
 * hash is libsodium's crypto_pwhash_str (argon2id) string, never a
 * password. Blank lines and lines starting with '#' are comments.
 *
 * The file holds password hashes, so it is a secret: it is refused when
 * its group or other users have any access to it. `joinedreview-web
 * --add-account` writes it (mode 0600, replaced atomically). */
#ifndef JR_ACCOUNTS_H
#define JR_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "streams.h"

#define JR_ACCOUNT_NAME_MAX  64
#define JR_ACCOUNT_LEADS_MAX 8
#define JR_ACCOUNT_HASH_MAX  128 /* crypto_pwhash_STRBYTES */
#define JR_ACCOUNTS_MAX      10000

typedef enum {
    JR_ACCOUNT_NONE = 0,
    JR_ACCOUNT_SCHEDULER = 1,      /* the whole review of the persons their leads lead */
    JR_ACCOUNT_STREAM_OFFICER = 2, /* their stream's persons, cut to its minimum */
    JR_ACCOUNT_DATA_OFFICER = 3,   /* their stream's rejected and parked input */
    JR_ACCOUNT_ANALYST = 4,        /* aggregates only */
} jr_account_role_t;

typedef struct {
    char name[JR_ACCOUNT_NAME_MAX + 1];
    jr_account_role_t role;
    char stream[JR_STREAM_CODE_MAX];                      /* stream and data officers */
    char leads[JR_ACCOUNT_LEADS_MAX][JR_STREAM_CODE_MAX]; /* schedulers */
    size_t n_leads;
    char hash[JR_ACCOUNT_HASH_MAX];
} jr_account_t;

typedef struct jr_accounts jr_accounts_t;

/* An empty set. Caller owns the result; NULL when out of memory. */
jr_accounts_t *jr_accounts_new(void);
void jr_accounts_destroy(jr_accounts_t **self_p);

/* Parses the text of an accounts file; each stream code must be in streams.
 * 0 and a new set in *out (caller owns it), or -1 with "line N: why" in err. */
int jr_accounts_parse(const char *text, size_t len, const jr_streams_t *streams,
                      jr_accounts_t **out, char *err, size_t errlen);

/* Reads and parses the file, refusing it when others can read it. A missing
 * file is an error unless missing_ok (then *out is empty). */
int jr_accounts_load(const char *path, const jr_streams_t *streams, bool missing_ok,
                     jr_accounts_t **out, char *err, size_t errlen);

/* Checks one account's fields (name, role and scope against streams). 0, or
 * -1 with err. */
int jr_accounts_check(const jr_account_t *a, const jr_streams_t *streams, char *err, size_t errlen);

/* The account named name, or NULL. Borrowed, valid until the set changes. */
const jr_account_t *jr_accounts_find(const jr_accounts_t *self, const char *name);
size_t jr_accounts_count(const jr_accounts_t *self);
const jr_account_t *jr_accounts_at(const jr_accounts_t *self, size_t i);

/* Adds the account, or replaces the one with its name (copied). 0, or -1
 * when out of memory or full. */
int jr_accounts_put(jr_accounts_t *self, const jr_account_t *a);

/* Writes the file afresh (mode 0600, atomically and durably). 0, or -1 with
 * err. */
int jr_accounts_save(const jr_accounts_t *self, const char *path, char *err, size_t errlen);

/* "scheduler", "stream-officer", "data-officer", "analyst"; NULL if none. */
const char *jr_accounts_role_name(jr_account_role_t role);
jr_account_role_t jr_accounts_role_from_name(const char *name);

/* The SCOPE field: "SC,SP", "ATW" or "-". */
void jr_accounts_scope(const jr_account_t *a, char *out, size_t len);

/* In words, for the page header: "review scheduler for SC, SP". */
void jr_accounts_describe(const jr_account_t *a, char *out, size_t len);

#endif
