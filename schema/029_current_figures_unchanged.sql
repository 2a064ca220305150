-- 029: a record rewritten with the same figures leaves its person's row of
-- current_figures (migration 027) alone.
--
-- 027's trigger rewrote the row of every person whose record a statement
-- wrote, whatever changed: most new record versions (a contribution, a plan
-- revision) change none of the reporting columns, and each rewrite was a
-- new row version and its WAL.
-- Each person's row is read first, through its key, and only rows that
-- differ are written: an INSERT ... ON CONFLICT that finds nothing to
-- change would still lock, and so dirty, the row.
CREATE OR REPLACE FUNCTION current_figures_put() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO current_figures
    SELECT n.*
      FROM (SELECT DISTINCT ON (nhs_number) nhs_number, cycle, ready_for_sign_off, enrolled,
                   complete_streams, area_priority, area_conflict, budget_streams,
                   budget_allocated, budget_spent
              FROM changed
             ORDER BY nhs_number, cycle DESC) n
      LEFT JOIN LATERAL (SELECT * FROM current_figures f
                          WHERE f.nhs_number = n.nhs_number OFFSET 0) f ON true
     WHERE f.nhs_number IS NULL
        OR (f.cycle <= n.cycle AND ROW(f.*) IS DISTINCT FROM ROW(n.*))
        ON CONFLICT (nhs_number) DO UPDATE
       SET cycle = EXCLUDED.cycle, ready_for_sign_off = EXCLUDED.ready_for_sign_off,
           enrolled = EXCLUDED.enrolled, complete_streams = EXCLUDED.complete_streams,
           area_priority = EXCLUDED.area_priority, area_conflict = EXCLUDED.area_conflict,
           budget_streams = EXCLUDED.budget_streams,
           budget_allocated = EXCLUDED.budget_allocated, budget_spent = EXCLUDED.budget_spent;
    RETURN NULL;
END
$$;
