-- 028: each record and each notice stored once.
--
-- A batch wrote every new version of a record twice: as the person's
-- current record (consolidated_review.record) and as its publication
-- (outbox.payload), the same bytes; a notice likewise, in due_notice.payload
-- and in its outbox row. Now each is written once:
--
--   a record version lives in its outbox row. consolidated_review.record is
--   NULL for it and the row's seq names that outbox row; a record whose bytes
--   are not its publication's (written by --rebuild, or before this
--   migration) keeps them in consolidated_review.record. The outbox trim
--   spares the rows that hold a current record.
--
--   a notice lives in its due_notice row, which is never rewritten; its
--   outbox row's payload is NULL and readers take due_notice.payload.
--
-- review_record answers every record's bytes wherever they are: the one
-- place readers take them from.
ALTER TABLE consolidated_review ALTER COLUMN record DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL;

CREATE VIEW review_record AS
SELECT c.nhs_number, c.cycle, c.seq,
       coalesce(c.record, (SELECT o.payload FROM outbox o WHERE o.seq = c.seq)) AS record
  FROM consolidated_review c;

-- What a publication's bytes are wherever they are kept.
CREATE VIEW publication AS
SELECT o.seq, o.topic, o.nhs_number, o.created_at,
       coalesce(o.payload, (SELECT d.payload FROM due_notice d
                             WHERE d.nhs_number = o.nhs_number AND d.seq = o.seq)) AS payload
  FROM outbox o;

-- The trim goes through the outbox in sequence order and remembers how far
-- it went: every publication up to trimmed_through has left the outbox,
-- except those holding a current record. Catch-up replays only above it.
ALTER TABLE publish_state ADD COLUMN trimmed_through bigint NOT NULL DEFAULT 0;
UPDATE publish_state SET trimmed_through = coalesce((SELECT min(seq) - 1 FROM outbox), last_seq);

GRANT SELECT ON review_record TO joinedreview_web;
