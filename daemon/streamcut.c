/* streamcut.c -- see streamcut.h. */
#include "streamcut.h"

#include <stdlib.h>
#include <string.h>

#include "cut.h"
#include "joinedreview/joinedreview.pb-c.h"

static int review(const uint8_t *payload, size_t len, const jr_share_scope_t *scope,
                  uint8_t **out, size_t *out_len)
{
    Joinedreview__V1__ConsolidatedReview *r =
        joinedreview__v1__consolidated_review__unpack(NULL, len, payload);
    if (r == NULL) {
        return 0; /* unreadable: withheld */
    }
    int rc = 0;
    if (jr_share_person_shown(scope, (const char *const *)r->enrolled_streams,
                              r->n_enrolled_streams)) {
        jr_cut_t cut;
        rc = jr_cut_build(&cut, r, scope);
        if (rc == 0) {
            rc = jr_cut_pack(&cut, out, out_len);
            jr_cut_clear(&cut);
        }
    }
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    return rc;
}

static int notice(const uint8_t *payload, size_t len, const jr_share_scope_t *scope,
                  uint8_t **out, size_t *out_len)
{
    Joinedreview__V1__DueNotice *n = joinedreview__v1__due_notice__unpack(NULL, len, payload);
    if (n == NULL) {
        return 0;
    }
    int rc = 0;
    if (jr_share_person_shown(scope, (const char *const *)n->covered_streams,
                              n->n_covered_streams)) {
        *out = malloc(len ? len : 1);
        if (*out == NULL) {
            rc = -1;
        } else {
            memcpy(*out, payload, len);
            *out_len = len;
        }
    }
    joinedreview__v1__due_notice__free_unpacked(n, NULL);
    return rc;
}

int jr_streamcut_publication(const char *topic, const uint8_t *payload, size_t len,
                             const jr_share_scope_t *scope, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (strcmp(topic, "review") == 0) {
        return review(payload, len, scope, out, out_len);
    }
    if (strncmp(topic, "notice.", 7) == 0) {
        return notice(payload, len, scope, out, out_len);
    }
    return 0;
}
