-- 003: what dashboards, catch-up and analysts read.

-- The parts of each consolidated review that reporting needs, as columns:
-- which streams are in force and complete, each area's priority for change
-- (0 not given, 1 green, 2 amber, 3 red; area n at index n) and conflict flag.
ALTER TABLE consolidated_review
    ADD COLUMN enrolled text[] NOT NULL DEFAULT '{}',
    ADD COLUMN complete_streams text[] NOT NULL DEFAULT '{}',
    ADD COLUMN area_priority smallint[] NOT NULL DEFAULT '{}',
    ADD COLUMN area_conflict boolean[] NOT NULL DEFAULT '{}';

-- The joined-up review a schedule row describes, and how many separate
-- meetings its covered streams would have needed on their own.
ALTER TABLE schedule ADD COLUMN separate_meetings integer NOT NULL DEFAULT 0;

-- A notice keeps its own message, so that a catch-up snapshot can serve the
-- open notices after the outbox rows have passed their retention; the
-- outbox is trimmed by age, so the notice no longer refers to it.
ALTER TABLE due_notice DROP CONSTRAINT due_notice_seq_fkey;
ALTER TABLE due_notice ADD COLUMN covered text[] NOT NULL DEFAULT '{}';
ALTER TABLE due_notice ADD COLUMN payload bytea;
CREATE INDEX outbox_created ON outbox (created_at);

-- ---- Reporting views: point any BI tool at these, read-only ----------------

-- Each person's current consolidated review.
CREATE VIEW report_current_review AS
SELECT c.nhs_number, c.cycle, c.version, c.ready_for_sign_off, c.enrolled,
       c.complete_streams, c.area_priority, c.area_conflict, c.updated_at
  FROM consolidated_review c
  JOIN person p ON p.nhs_number = c.nhs_number AND p.cycle = c.cycle;

-- For each funding stream: persons with it in force, complete, missing.
CREATE VIEW report_completeness_by_stream AS
SELECT s.stream,
       count(*) AS enrolled,
       count(*) FILTER (WHERE s.stream = ANY (r.complete_streams)) AS complete,
       count(*) FILTER (WHERE NOT s.stream = ANY (r.complete_streams)) AS missing_information
  FROM report_current_review r, unnest(r.enrolled) AS s(stream)
 GROUP BY s.stream;

-- Joined-up reviews by covered stream: overdue, and due within 28 days.
CREATE VIEW report_due_by_stream AS
SELECT s.stream,
       count(*) FILTER (WHERE sc.review_on < current_date) AS overdue,
       count(*) FILTER (WHERE sc.review_on >= current_date
                          AND sc.review_on <= current_date + 28) AS due_within_28_days,
       count(*) AS scheduled
  FROM schedule sc, unnest(sc.covered) AS s(stream)
 WHERE sc.review_on IS NOT NULL
 GROUP BY s.stream;

-- The same by lead organisation.
CREATE VIEW report_due_by_lead AS
SELECT sc.lead,
       count(*) FILTER (WHERE sc.review_on < current_date) AS overdue,
       count(*) FILTER (WHERE sc.review_on >= current_date
                          AND sc.review_on <= current_date + 28) AS due_within_28_days,
       count(*) AS scheduled
  FROM schedule sc
 WHERE sc.review_on IS NOT NULL
 GROUP BY sc.lead;

-- Priorities for change by area (1-9), and areas in conflict.
CREATE VIEW report_priorities_by_area AS
SELECT a.area,
       count(*) FILTER (WHERE a.priority = 3) AS red,
       count(*) FILTER (WHERE a.priority = 2) AS amber,
       count(*) FILTER (WHERE a.priority = 1) AS green,
       count(*) FILTER (WHERE a.priority = 0) AS not_given,
       count(*) FILTER (WHERE r.area_conflict[a.area]) AS conflicts
  FROM report_current_review r,
       unnest(r.area_priority) WITH ORDINALITY AS a(priority, area)
 GROUP BY a.area;

-- Joined-up reviews held, by month.
CREATE VIEW report_reviews_held_by_month AS
SELECT date_trunc('month', held_on)::date AS month, count(*) AS reviews_held
  FROM consolidated_review
 WHERE held_on IS NOT NULL
 GROUP BY 1;

-- Meetings saved by alignment: for each upcoming joined-up review, the
-- separate review meetings its covered streams would otherwise have needed.
CREATE VIEW report_meetings_saved AS
SELECT count(*) AS joined_up_reviews,
       coalesce(sum(separate_meetings), 0) AS separate_meetings,
       coalesce(sum(greatest(separate_meetings - 1, 0)), 0) AS meetings_saved
  FROM schedule
 WHERE review_on IS NOT NULL;
