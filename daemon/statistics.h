/* statistics.h -- the figures dashboards get: plain data, filled by the
 * store's aggregate queries and packed by the codec. */
#ifndef JR_STATISTICS_H
#define JR_STATISTICS_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "streams.h"

/* A review is "due within 28 days" (due_within_28_days on the wire) from
 * today to today plus this many days, both included. The statistics'
 * queries take it as a parameter; the reporting views read it from
 * report_setting, which the daemon writes at every start. */
#define JR_DUE_WITHIN_DAYS 28

typedef struct {
    char stream[JR_STREAM_CODE_MAX];
    uint32_t enrolled, complete, missing_information, due_within_28_days, overdue;
    /* the current records' latest budgets of the stream: how many, and
     * their totals (packed only when capture.h allows) */
    uint32_t budget_persons;
    int64_t allocated_pence, spent_pence;
} jr_stat_stream_t;

typedef struct {
    char lead[JR_STREAM_CODE_MAX];
    uint32_t reviews, due_within_28_days, overdue;
} jr_stat_lead_t;

typedef struct {
    uint32_t red, amber, green, not_given, conflicts;
} jr_stat_area_t;

typedef struct {
    uint64_t sequence; /* consistent with publications up to this */
    char today[11];
    uint32_t reviews, ready_for_sign_off, missing_information;
    jr_stat_stream_t streams[JR_STREAMS_MAX];
    size_t n_streams;
    jr_stat_lead_t leads[JR_STREAMS_MAX + 1];
    size_t n_leads;
    jr_stat_area_t areas[JR_AREA_COUNT]; /* areas[0] is area 1 */
    uint64_t rejected_events, parked_events, events_total;
    double ingest_per_second;
} jr_statistics_t;

#endif
