-- 011: how far ahead "due within 28 days" looks is the daemon's figure.
--
-- The statistics count a review as due within 28 days when it falls between
-- today and today plus the daemon's JR_DUE_WITHIN_DAYS (daemon/statistics.h,
-- the figure the wire contract's due_within_28_days names), which it passes
-- to its own queries. The reporting views read the same figure from this
-- one-row table, which the daemon writes every time it starts, right after
-- the migrations, so that the rule is written once.
CREATE TABLE report_setting (
    id               boolean PRIMARY KEY DEFAULT true CHECK (id),
    due_within_days  integer NOT NULL CHECK (due_within_days >= 0)
);

CREATE OR REPLACE VIEW report_due_by_stream AS
SELECT s.stream,
       count(*) FILTER (WHERE sc.review_on < current_date) AS overdue,
       count(*) FILTER (WHERE sc.review_on >= current_date
                          AND sc.review_on <= current_date + rs.due_within_days)
           AS due_within_28_days,
       count(*) AS scheduled
  FROM schedule sc CROSS JOIN report_setting rs, unnest(sc.covered) AS s(stream)
 WHERE sc.review_on IS NOT NULL
 GROUP BY s.stream;

CREATE OR REPLACE VIEW report_due_by_lead AS
SELECT sc.lead,
       count(*) FILTER (WHERE sc.review_on < current_date) AS overdue,
       count(*) FILTER (WHERE sc.review_on >= current_date
                          AND sc.review_on <= current_date + rs.due_within_days)
           AS due_within_28_days,
       count(*) AS scheduled
  FROM schedule sc CROSS JOIN report_setting rs
 WHERE sc.review_on IS NOT NULL
 GROUP BY sc.lead;

COMMENT ON VIEW report_due_by_stream IS
    'Joined-up reviews by covered stream: overdue, and due from today to today plus '
    'report_setting.due_within_days (the daemon''s figure).';
COMMENT ON VIEW report_due_by_lead IS
    'Joined-up reviews by lead organisation: overdue, and due from today to today plus '
    'report_setting.due_within_days (the daemon''s figure).';
