-- 009: the store of rejected input is bounded.
--
-- A client that keeps sending junk must not fill the database's disk. Each
-- rejected message now keeps what a person needs to diagnose it: its length,
-- its SHA-256 digest and its first 4,096 bytes (raw). The same message
-- refused for the same reason again is one row, counted (times), first seen
-- at received_at and last seen at last_seen, instead of a row per resend.
-- The daemon keeps at most daemon.rejected_max_rows rows (the most recently
-- seen; a resend takes a new id, so ids follow last_seen) and drops rows not
-- seen for daemon.rejected_retention_days.
ALTER TABLE rejected_event
    ADD COLUMN raw_length integer,
    ADD COLUMN digest bytea,
    ADD COLUMN times bigint NOT NULL DEFAULT 1,
    ADD COLUMN last_seen timestamptz;

UPDATE rejected_event
   SET raw_length = length(raw), digest = sha256(raw), last_seen = received_at;

-- Rows already kept twice become one, counted.
WITH g AS (SELECT min(id) AS keep, count(*) AS n, min(received_at) AS first_seen,
                  max(received_at) AS last_seen
             FROM rejected_event GROUP BY digest, reason_code HAVING count(*) > 1)
UPDATE rejected_event r
   SET times = g.n, received_at = g.first_seen, last_seen = g.last_seen
  FROM g WHERE r.id = g.keep;
DELETE FROM rejected_event r
 USING rejected_event k
 WHERE r.digest = k.digest AND r.reason_code = k.reason_code AND r.id > k.id;

UPDATE rejected_event SET raw = substring(raw FROM 1 FOR 4096) WHERE length(raw) > 4096;

ALTER TABLE rejected_event
    ALTER COLUMN raw_length SET NOT NULL,
    ALTER COLUMN digest SET NOT NULL,
    ALTER COLUMN last_seen SET NOT NULL,
    ALTER COLUMN last_seen SET DEFAULT now(),
    ADD CHECK (length(raw) <= 4096);
CREATE UNIQUE INDEX rejected_event_distinct ON rejected_event (digest, reason_code);
CREATE INDEX rejected_event_last_seen ON rejected_event (last_seen);
DROP INDEX rejected_event_received;
