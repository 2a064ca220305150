-- 027: what the statistics read of each person's current record, kept as
-- the records change.
--
-- The statistics took each person's newest cycle's record by sorting every
-- row of consolidated_review (DISTINCT ON), reading the whole table, packed
-- records and all: 1.2 kB a person, every interval. current_figures holds
-- one narrow row a person, the reporting columns of the newest cycle's
-- record (the same rows report_current_review answers), written by
-- statement-level triggers in the transaction that writes the records, so
-- that no writer has to know of it.
CREATE TABLE current_figures (
    nhs_number          text COLLATE "C" PRIMARY KEY,
    cycle               integer NOT NULL,
    ready_for_sign_off  boolean NOT NULL,
    enrolled            text[] NOT NULL,
    complete_streams    text[] NOT NULL,
    area_priority       smallint[] NOT NULL,
    area_conflict       boolean[] NOT NULL,
    budget_streams      text[] NOT NULL,
    budget_allocated    bigint[] NOT NULL,
    budget_spent        bigint[] NOT NULL
);

INSERT INTO current_figures
SELECT DISTINCT ON (nhs_number) nhs_number, cycle, ready_for_sign_off, enrolled,
       complete_streams, area_priority, area_conflict, budget_streams, budget_allocated,
       budget_spent
  FROM consolidated_review
 ORDER BY nhs_number, cycle DESC;

-- Records written or rewritten: a person's row follows their newest cycle's
-- record, never an older cycle's.
CREATE FUNCTION current_figures_put() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO current_figures
    SELECT DISTINCT ON (nhs_number) nhs_number, cycle, ready_for_sign_off, enrolled,
           complete_streams, area_priority, area_conflict, budget_streams, budget_allocated,
           budget_spent
      FROM changed
     ORDER BY nhs_number, cycle DESC
        ON CONFLICT (nhs_number) DO UPDATE
       SET cycle = EXCLUDED.cycle, ready_for_sign_off = EXCLUDED.ready_for_sign_off,
           enrolled = EXCLUDED.enrolled, complete_streams = EXCLUDED.complete_streams,
           area_priority = EXCLUDED.area_priority, area_conflict = EXCLUDED.area_conflict,
           budget_streams = EXCLUDED.budget_streams,
           budget_allocated = EXCLUDED.budget_allocated, budget_spent = EXCLUDED.budget_spent
     WHERE current_figures.cycle <= EXCLUDED.cycle;
    RETURN NULL;
END
$$;

-- Records removed (by hand: the daemon never does): the person's row falls
-- back to the newest record left, or goes.
CREATE FUNCTION current_figures_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM current_figures f USING gone g
     WHERE f.nhs_number = g.nhs_number AND f.cycle = g.cycle;
    INSERT INTO current_figures
    SELECT DISTINCT ON (c.nhs_number) c.nhs_number, c.cycle, c.ready_for_sign_off, c.enrolled,
           c.complete_streams, c.area_priority, c.area_conflict, c.budget_streams,
           c.budget_allocated, c.budget_spent
      FROM consolidated_review c
     WHERE c.nhs_number IN (SELECT nhs_number FROM gone)
     ORDER BY c.nhs_number, c.cycle DESC
        ON CONFLICT (nhs_number) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION current_figures_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM current_figures;
    RETURN NULL;
END
$$;

-- An INSERT ... ON CONFLICT DO UPDATE fires both the first two, each with
-- its own rows.
CREATE TRIGGER current_figures_inserted AFTER INSERT ON consolidated_review
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION current_figures_put();
CREATE TRIGGER current_figures_updated AFTER UPDATE ON consolidated_review
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION current_figures_put();
CREATE TRIGGER current_figures_deleted AFTER DELETE ON consolidated_review
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION current_figures_gone();
CREATE TRIGGER current_figures_truncated AFTER TRUNCATE ON consolidated_review
    FOR EACH STATEMENT EXECUTE FUNCTION current_figures_emptied();
