-- 007: the event log keeps only the indexes something reads through. No
-- statement looks enrolments up by person on their own (a person's events
-- are read together, through event_person_cycle), so this index was pure
-- cost: an entry written with every enrolment.
DROP INDEX event_person_enrolment;
