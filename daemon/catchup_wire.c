/* catchup_wire.c -- see catchup_wire.h. */
#include "catchup_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "wire.h"

JR_WIRE_TIE(JR_CATCHUP_SNAPSHOT, JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SNAPSHOT);
JR_WIRE_TIE(JR_CATCHUP_SINCE, JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SINCE);
JR_WIRE_TIE(JR_CATCHUP_STATISTICS, JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__STATISTICS);

JR_WIRE_TIE(JR_CATCHUP_OK, JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK);
JR_WIRE_TIE(JR_CATCHUP_TOO_OLD, JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__TOO_OLD);
JR_WIRE_TIE(JR_CATCHUP_BAD_REQUEST, JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__BAD_REQUEST);
JR_WIRE_TIE(JR_CATCHUP_UNAVAILABLE, JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__UNAVAILABLE);

static bool code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= JR_STREAM_CODE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
            return false;
        }
    }
    return true;
}

int jr_catchup_wire_decode(const uint8_t *buf, size_t len, jr_catchup_request_t *out, char *why,
                           size_t whylen)
{
    memset(out, 0, sizeof *out);
    Joinedreview__V1__CatchupRequest *req =
        joinedreview__v1__catchup_request__unpack(NULL, len, buf);
    if (req == NULL) {
        snprintf(why, whylen, "the message is not a joinedreview.v1.CatchupRequest");
        return -1;
    }
    int rc = -1;
    char nul_field[96] = "";
    if (jr_wire_find_nul(&joinedreview__v1__catchup_request__descriptor, buf, len, nul_field,
                         sizeof nul_field) == 1) {
        snprintf(why, whylen, "%s holds a NUL byte: text must be UTF-8 without NUL bytes",
                 nul_field);
        joinedreview__v1__catchup_request__free_unpacked(req, NULL);
        return -1;
    }
    if (req->request_id != NULL && strlen(req->request_id) < sizeof out->request_id &&
        jr_text_valid_utf8(req->request_id, strlen(req->request_id))) {
        strcpy(out->request_id, req->request_id);
    }
    if (!req->has_kind || req->kind < JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SNAPSHOT ||
        req->kind > JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__STATISTICS) {
        snprintf(why, whylen, "kind must be SNAPSHOT, SINCE or STATISTICS");
    } else if (req->kind == JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SINCE &&
               !req->has_after_sequence) {
        snprintf(why, whylen, "SINCE needs after_sequence: the last sequence you processed");
    } else if (req->lead != NULL && !code_ok(req->lead)) {
        snprintf(why, whylen, "lead must be a funding stream code such as SC");
    } else if (req->stream != NULL && !code_ok(req->stream)) {
        snprintf(why, whylen, "stream must be a funding stream code such as ICES");
    } else {
        out->kind = (jr_catchup_kind_t)req->kind;
        out->after = req->after_sequence;
        out->max_items = req->has_max_items ? req->max_items : 0;
        if (req->lead != NULL) {
            strcpy(out->lead, req->lead);
        }
        if (req->stream != NULL) {
            strcpy(out->stream, req->stream);
        }
        rc = 0;
    }
    joinedreview__v1__catchup_request__free_unpacked(req, NULL);
    return rc;
}

int jr_catchup_wire_encode_reply(const char *request_id, jr_catchup_status_t status,
                                 const char *reason, uint64_t sequence, bool last,
                                 const jr_catchup_item_t *items, size_t n,
                                 const jr_statistics_t *stats, uint8_t **out, size_t *len)
{
    jr_wire_arena_t a = {0};
    Joinedreview__V1__CatchupReply r = JOINEDREVIEW__V1__CATCHUP_REPLY__INIT;
    r.request_id = request_id && request_id[0] ? (char *)request_id : NULL;
    r.has_status = 1;
    r.status = (Joinedreview__V1__CatchupReply__Status)status;
    r.reason = (char *)reason;
    r.has_sequence = 1;
    r.sequence = sequence;
    r.has_last = 1;
    r.last = last;
    r.items = jr_wire_arena_alloc(&a, sizeof *r.items * (n + 1));
    for (size_t i = 0; r.items && i < n; i++) {
        Joinedreview__V1__Publication *p = jr_wire_arena_alloc(&a, sizeof *p);
        if (p == NULL) {
            break;
        }
        *p = (Joinedreview__V1__Publication)JOINEDREVIEW__V1__PUBLICATION__INIT;
        p->has_sequence = 1;
        p->sequence = items[i].seq;
        p->topic = (char *)items[i].topic;
        p->has_payload = 1;
        p->payload.data = items[i].payload;
        p->payload.len = items[i].len;
        r.items[r.n_items++] = p;
    }
    if (stats != NULL) {
        r.statistics = jr_record_statistics_message(&a, stats);
    }
    int rc = jr_wire_pack(&a, &r.base, out, len);
    jr_wire_arena_free(&a);
    return rc;
}
