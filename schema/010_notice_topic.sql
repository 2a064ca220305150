-- 010: a notice keeps the topic it was published under.
--
-- The daemon names a notice's topic ("notice.<kind>.<lead>") when it
-- publishes the notice, and writes it here with it; a catch-up snapshot
-- serves the notice under the topic it reads here, so the rule that makes
-- topics lives in the daemon alone. Notices recorded before this migration
-- get the topic they were published under, by that rule as it stands, once.
ALTER TABLE due_notice ADD COLUMN topic text;
UPDATE due_notice SET topic = 'notice.' || lower(kind) || '.' || coalesce(lead, 'NONE');
ALTER TABLE due_notice ALTER COLUMN topic SET NOT NULL;
