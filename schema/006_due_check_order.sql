-- 006: the due check reads the persons due in (next_check_on, nhs_number)
-- order, a round at a time. With an index on next_check_on alone, every
-- round had to read and sort all the persons due on the same day to find
-- the first 500 of them (a month of downtime at a million persons put most
-- of them on one day): this index hands each round its rows in order.
CREATE INDEX schedule_due ON schedule (next_check_on, nhs_number)
    WHERE next_check_on IS NOT NULL;
DROP INDEX schedule_next_check;
