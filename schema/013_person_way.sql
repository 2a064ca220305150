-- 013: how the person wants their review, group reviews, budgets and
-- underspend, and what national capture reads (DOMAIN.md, "How the person
-- wants their review", "Group reviews", "Budgets and underspend", "National
-- capture").

-- The event log takes the two new bodies of the wire contract.
ALTER TABLE event DROP CONSTRAINT event_kind_check;
ALTER TABLE event ADD CONSTRAINT event_kind_check
    CHECK (kind IN ('ENROLMENT', 'CONTRIBUTION', 'REVIEW_HELD', 'PLAN_REVISION', 'PREFERENCES',
                    'BUDGET')) NOT VALID;
ALTER TABLE event VALIDATE CONSTRAINT event_kind_check;

-- What the record says, as columns, for the pages, the statistics and the
-- quarterly summary:
--   as_of              the record's own date (its newest event's day);
--   called, way, needs the name to use, the way the person wants their
--                      review (FORMAT_FIRST, MEETING, WITH_OTHERS) and what
--                      they need to take part (LARGE_PRINT, EASY_READ, ...);
--   budget_*           each stream's latest budget: stream, allocated and
--                      spent, in whole pence, side by side;
--   held_streams       for a final record, the streams its review covered,
--   held_by_due        and of them those held on or before their own due date.
-- Records written before this migration know their as_of only as the day
-- they were last written, until they change.
ALTER TABLE consolidated_review
    ADD COLUMN as_of date,
    ADD COLUMN called text,
    ADD COLUMN way text CHECK (way IN ('FORMAT_FIRST', 'MEETING', 'WITH_OTHERS')),
    ADD COLUMN needs text[] NOT NULL DEFAULT '{}',
    ADD COLUMN budget_streams text[] NOT NULL DEFAULT '{}',
    ADD COLUMN budget_allocated bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN budget_spent bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN held_streams text[] NOT NULL DEFAULT '{}',
    ADD COLUMN held_by_due text[] NOT NULL DEFAULT '{}';
UPDATE consolidated_review SET as_of = updated_at::date;

-- Who wants a group review, by which key: set only then (and with a review
-- date and a lead), so the index holds only them.
ALTER TABLE schedule ADD COLUMN group_key text;
CREATE INDEX schedule_group ON schedule (lead, group_key, review_on, nhs_number)
    WHERE group_key IS NOT NULL;

-- Every suggested group review published (group.<lead>): its members in
-- review date order, the suggestions it replaced, and whether it is the
-- current word for its members. A withdrawn group has no date and no
-- members, and is not current.
CREATE TABLE group_suggestion (
    seq         bigint PRIMARY KEY,
    lead        text COLLATE "C" NOT NULL,
    group_key   text COLLATE "C" NOT NULL,
    review_on   date,
    members     text[] COLLATE "C" NOT NULL DEFAULT '{}',
    replaces    bigint[] NOT NULL DEFAULT '{}',
    current     boolean NOT NULL,
    topic       text NOT NULL,
    payload     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX group_suggestion_current ON group_suggestion (lead, group_key) WHERE current;

-- ---- Reporting views -------------------------------------------------------

-- Each stream's budgets over the persons' current records (the newest
-- cycle's record each): how many persons have one, and the totals.
CREATE VIEW report_budget_by_stream AS
SELECT b.stream, count(*) AS persons, sum(b.allocated) AS allocated_pence,
       sum(b.spent) AS spent_pence, sum(b.allocated - b.spent) AS underspend_pence
  FROM (SELECT DISTINCT ON (nhs_number) budget_streams, budget_allocated, budget_spent
          FROM consolidated_review ORDER BY nhs_number, cycle DESC) r,
       unnest(r.budget_streams, r.budget_allocated, r.budget_spent) AS b(stream, allocated, spent)
 GROUP BY b.stream;

-- Joined-up reviews held, by quarter (YYYYQN) and stream covered: how many,
-- how many on or before that stream's own due date, how many with the
-- stream's minimum information complete at sign-off, each area's priorities
-- (red, amber, green), and the budgets the final records show.
CREATE VIEW report_held_by_quarter AS
SELECT to_char(c.held_on, 'YYYY"Q"Q') AS quarter, h.stream,
       count(*) AS reviews_held,
       count(*) FILTER (WHERE h.stream = ANY (c.held_by_due)) AS held_by_due_date,
       count(*) FILTER (WHERE h.stream = ANY (c.complete_streams)) AS complete_at_sign_off,
       count(*) FILTER (WHERE c.area_priority[1] = 3) AS area1_red,
       count(*) FILTER (WHERE c.area_priority[1] = 2) AS area1_amber,
       count(*) FILTER (WHERE c.area_priority[1] = 1) AS area1_green,
       count(*) FILTER (WHERE c.area_priority[2] = 3) AS area2_red,
       count(*) FILTER (WHERE c.area_priority[2] = 2) AS area2_amber,
       count(*) FILTER (WHERE c.area_priority[2] = 1) AS area2_green,
       count(*) FILTER (WHERE c.area_priority[3] = 3) AS area3_red,
       count(*) FILTER (WHERE c.area_priority[3] = 2) AS area3_amber,
       count(*) FILTER (WHERE c.area_priority[3] = 1) AS area3_green,
       count(*) FILTER (WHERE c.area_priority[4] = 3) AS area4_red,
       count(*) FILTER (WHERE c.area_priority[4] = 2) AS area4_amber,
       count(*) FILTER (WHERE c.area_priority[4] = 1) AS area4_green,
       count(*) FILTER (WHERE c.area_priority[5] = 3) AS area5_red,
       count(*) FILTER (WHERE c.area_priority[5] = 2) AS area5_amber,
       count(*) FILTER (WHERE c.area_priority[5] = 1) AS area5_green,
       count(*) FILTER (WHERE c.area_priority[6] = 3) AS area6_red,
       count(*) FILTER (WHERE c.area_priority[6] = 2) AS area6_amber,
       count(*) FILTER (WHERE c.area_priority[6] = 1) AS area6_green,
       count(*) FILTER (WHERE c.area_priority[7] = 3) AS area7_red,
       count(*) FILTER (WHERE c.area_priority[7] = 2) AS area7_amber,
       count(*) FILTER (WHERE c.area_priority[7] = 1) AS area7_green,
       count(*) FILTER (WHERE c.area_priority[8] = 3) AS area8_red,
       count(*) FILTER (WHERE c.area_priority[8] = 2) AS area8_amber,
       count(*) FILTER (WHERE c.area_priority[8] = 1) AS area8_green,
       count(*) FILTER (WHERE c.area_priority[9] = 3) AS area9_red,
       count(*) FILTER (WHERE c.area_priority[9] = 2) AS area9_amber,
       count(*) FILTER (WHERE c.area_priority[9] = 1) AS area9_green,
       count(b.allocated) AS budget_persons,
       coalesce(sum(b.allocated), 0) AS allocated_pence,
       coalesce(sum(b.spent), 0) AS spent_pence,
       coalesce(sum(b.allocated - b.spent), 0) AS underspend_pence
  FROM consolidated_review c
 CROSS JOIN unnest(c.held_streams) AS h(stream)
  LEFT JOIN LATERAL (SELECT u.allocated, u.spent
                       FROM unnest(c.budget_streams, c.budget_allocated, c.budget_spent)
                            AS u(stream, allocated, spent)
                      WHERE u.stream = h.stream LIMIT 1) b ON true
 WHERE c.held_on IS NOT NULL
 GROUP BY 1, 2;

-- Persons enrolled, by quarter and stream: each person's record as it stood
-- at the end of the quarter (the newest whose as_of is in or before it).
CREATE VIEW report_enrolled_by_quarter AS
SELECT to_char(q.first_day, 'YYYY"Q"Q') AS quarter, e.stream, e.persons
  FROM generate_series(date_trunc('quarter', (SELECT min(as_of) FROM consolidated_review)),
                       greatest(date_trunc('quarter', current_date),
                                date_trunc('quarter', (SELECT max(as_of) FROM consolidated_review))),
                       interval '3 months') AS q(first_day)
 CROSS JOIN LATERAL (
       SELECT s.stream, count(*) AS persons
         FROM (SELECT DISTINCT ON (nhs_number) enrolled FROM consolidated_review
                WHERE as_of < q.first_day + interval '3 months'
                ORDER BY nhs_number, cycle DESC) r,
              unnest(r.enrolled) AS s(stream)
        GROUP BY s.stream) e;

GRANT SELECT ON report_budget_by_stream, report_held_by_quarter, report_enrolled_by_quarter
    TO joinedreview_reader;

-- joinedreview-web reads the name to use, the way and the needs (the
-- worklist's name column and its filter), and the budget totals by stream
-- (an analyst's aggregates). Its role may not exist yet on a database this
-- migration comes to first (020 makes it too).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'joinedreview_web') THEN
        CREATE ROLE joinedreview_web NOLOGIN;
    END IF;
END
$$;
GRANT SELECT (as_of, called, way, needs) ON consolidated_review TO joinedreview_web;
GRANT SELECT ON report_budget_by_stream TO joinedreview_web;
