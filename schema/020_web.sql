-- 020: joinedreview-web, the service people use in a browser.
--
-- web_audit: every view of a person's review, written before the page is
-- shown: who (the account and its role), whose record (NHS number), which
-- page, and when. Append-only for everyone but the schema's owner.
--
-- joinedreview_web: the group role the web service logs in as a member of
-- (the DBA: CREATE ROLE jr_web LOGIN IN ROLE joinedreview_web). It can read
-- what the pages show and nothing else, column by column: never the stored
-- envelopes (event.envelope) nor the bytes of rejected input
-- (rejected_event.raw); and it can add audit rows, never change them.
--
-- What it reads, and for which page:
--   consolidated_review  the records, and the reporting columns   person, worklist, pack
--   schedule             review date, lead, covered streams        worklist, person, metrics
--   due_notice           the notices decided for a person          person
--   event                parked events (no envelope)               data officer's desk, metrics
--   rejected_event       reasons and counts (no raw bytes)         data officer's desk, metrics
--   report_* views       aggregates                                analyst
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'joinedreview_web') THEN
        CREATE ROLE joinedreview_web NOLOGIN;
    END IF;
END
$$;

CREATE TABLE web_audit (
    id          bigserial PRIMARY KEY,
    viewed_at   timestamptz NOT NULL DEFAULT now(),
    account     text NOT NULL CHECK (length(account) BETWEEN 1 AND 64),
    role        text NOT NULL CHECK (role IN ('scheduler', 'stream-officer', 'data-officer', 'analyst')),
    scope       text NOT NULL DEFAULT '',      -- the account's stream or lead organisations
    nhs_number  text COLLATE "C" NOT NULL CHECK (nhs_number ~ '^[0-9]{10}$'),
    cycle       integer,
    page        text NOT NULL CHECK (page IN ('review', 'pack')),
    address     inet
);
CREATE INDEX web_audit_person ON web_audit (nhs_number, viewed_at);
CREATE INDEX web_audit_viewed ON web_audit (viewed_at);

-- The daemon's role got every right on new tables by default (migration
-- 004); the audit trail is not its business.
REVOKE ALL ON web_audit FROM joinedreview_app;
REVOKE ALL ON SEQUENCE web_audit_id_seq FROM joinedreview_app;

GRANT USAGE ON SCHEMA public TO joinedreview_web;
GRANT INSERT ON web_audit TO joinedreview_web;
GRANT USAGE ON SEQUENCE web_audit_id_seq TO joinedreview_web;
GRANT SELECT (nhs_number, cycle, version, ready_for_sign_off, held_on, record, enrolled,
              complete_streams, updated_at)
    ON consolidated_review TO joinedreview_web;
GRANT SELECT (nhs_number, cycle, review_on, lead, covered) ON schedule TO joinedreview_web;
GRANT SELECT (nhs_number, cycle, key, kind, notice_on, review_on, lead, covered, seq, decided_at)
    ON due_notice TO joinedreview_web;
GRANT SELECT (id, stream, source_event_id, kind, occurred_at, received_at, nhs_number, ni_number,
              local_id)
    ON event TO joinedreview_web;
GRANT SELECT (id, stream, source_event_id, reason_code, reason, times, received_at, last_seen,
              raw_length)
    ON rejected_event TO joinedreview_web;
GRANT SELECT ON report_current_review, report_completeness_by_stream, report_due_by_stream,
    report_due_by_lead, report_priorities_by_area, report_reviews_held_by_month,
    report_meetings_saved TO joinedreview_web;

-- The worklist of one lead organisation, in review-date order, reads an
-- index range instead of every person's schedule, and stops at its last
-- row; a stream officer's (persons enrolled in a stream, whoever leads)
-- reads the reviews in date order and stops likewise.
CREATE INDEX schedule_lead_review ON schedule (lead, review_on, nhs_number)
    WHERE review_on IS NOT NULL;
CREATE INDEX schedule_review ON schedule (review_on, nhs_number) WHERE review_on IS NOT NULL;

-- The data officer's desk and the metrics read a stream's parked events;
-- only parked rows are in this index, so it costs the event log nothing
-- else.
CREATE INDEX event_parked_stream ON event (stream, received_at) WHERE nhs_number IS NULL;
