-- 008: a person's current record is the newest cycle's record they have.
--
-- After a review is held the person moves to the next cycle, which has no
-- record until its first event. Until then, the held cycle's final record,
-- which carries the new review date, is the person's current state: every
-- reader of "current" (this view, the statistics built on it, catch-up
-- snapshots) takes each person's record of the highest cycle, instead of the
-- record of person.cycle, which would leave the person out.
CREATE OR REPLACE VIEW report_current_review AS
SELECT DISTINCT ON (c.nhs_number)
       c.nhs_number, c.cycle, c.version, c.ready_for_sign_off, c.enrolled,
       c.complete_streams, c.area_priority, c.area_conflict, c.updated_at
  FROM consolidated_review c
 ORDER BY c.nhs_number, c.cycle DESC;
