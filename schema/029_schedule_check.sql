-- 029: each person's next check in a narrow table of its own.
--
-- The due check moves every person it settles to their next notice date.
-- As a column of schedule, next_check_on was in an index (schedule_due), so
-- each move was a new version of the whole schedule row, with an entry in
-- every one of its indexes (the key, schedule_due, schedule_review,
-- schedule_lead_review, schedule_group). Here a move is a new version of a
-- two-column row with an entry in two indexes, and the schedule row is
-- written only when the review date, lead, covered streams, separate
-- meetings or group key change.
--
-- A person has a row while there is a next check (a review date); none
-- when there is nothing to check. The due check reads the persons due in
-- (next_check_on, nhs_number) order through schedule_check_due, a round at
-- a time, each round reading on from the key the last one stopped at.
CREATE TABLE schedule_check (
    nhs_number     text COLLATE "C" PRIMARY KEY REFERENCES person (nhs_number),
    next_check_on  date NOT NULL
);

INSERT INTO schedule_check (nhs_number, next_check_on)
SELECT nhs_number, next_check_on FROM schedule WHERE next_check_on IS NOT NULL;

CREATE INDEX schedule_check_due ON schedule_check (next_check_on, nhs_number);
ANALYZE schedule_check;

DROP INDEX schedule_due;
ALTER TABLE schedule DROP COLUMN next_check_on;

-- The daemon reads and writes it, like schedule (migration 004's default
-- privileges give it the same; said here too, whoever runs this migration).
-- The web pages and the analysts never read next_check_on, and get nothing.
GRANT SELECT, INSERT, UPDATE, DELETE ON schedule_check TO joinedreview_app;
