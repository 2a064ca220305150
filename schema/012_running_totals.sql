-- 012: what was found by reading whole tables is kept as it changes, by the
-- statements that change it, in their transaction.
--
-- publish_state.last_seq is the highest sequence number handed out. The
-- statements that write outbox rows raise it. The daemon read it at every
-- connection as the highest seq of the outbox, consolidated_review and
-- due_notice, the last two without an index on seq: a scan of every record
-- and every notice.
--
-- event_count holds how many events the log has, and how many of them are
-- parked. The COPY of a batch adds its rows, a parked event released
-- leaves the parked count. The statistics counted the whole log every
-- minute.
ALTER TABLE publish_state ADD COLUMN last_seq bigint;
UPDATE publish_state
   SET last_seq = greatest(last_published_seq,
                           (SELECT coalesce(max(seq), 0) FROM outbox),
                           (SELECT coalesce(max(seq), 0) FROM consolidated_review),
                           (SELECT coalesce(max(seq), 0) FROM due_notice));
ALTER TABLE publish_state ALTER COLUMN last_seq SET NOT NULL;

CREATE TABLE event_count (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    events  bigint NOT NULL,
    parked  bigint NOT NULL
);
INSERT INTO event_count (events, parked)
SELECT count(*), count(*) FILTER (WHERE nhs_number IS NULL) FROM event;
