-- 030: the statistics counted as the rows change, not read from them.
--
-- The statistics feed read one row a person (current_figures, migration
-- 027) and every schedule row each time it was asked: 2.2 s at a million
-- persons. Now statement-level triggers keep the totals themselves, in the
-- transaction that changes the rows, so that a request reads a few hundred
-- rows whatever the caseload:
--
--   figure_count  from current_figures: persons and ready for sign-off
--                 (figure 'persons', 'ready'); by stream, persons enrolled
--                 and complete ('enrolled', 'complete'); budgets by stream,
--                 persons, allocated and spent ('budget'); by area (key the
--                 area's number), persons by priority ('priority.0' to
--                 'priority.3') and in conflict ('conflict');
--   schedule_day  from schedule: persons with a review date on each day, by
--                 covered stream (kind 'S') and by lead (kind 'L'), so that
--                 due and overdue are sums over a range of days.
--
-- A trigger adds what the statement's new rows count and takes away what
-- its old rows counted. Rows that count nothing any more stay at zero and
-- are never shown.
CREATE TABLE figure_count (
    figure     text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL DEFAULT '',
    n          bigint NOT NULL DEFAULT 0,
    allocated  bigint NOT NULL DEFAULT 0,
    spent      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (figure, key)
);

CREATE TABLE schedule_day (
    kind       "char" NOT NULL CHECK (kind IN ('S', 'L')),
    code       text COLLATE "C" NOT NULL,
    review_on  date NOT NULL,
    n          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, code, review_on)
);

-- What a set of current_figures rows counts, signed.
CREATE FUNCTION figure_rows(rows current_figures[], sign integer)
RETURNS TABLE (figure text, key text, n bigint, allocated bigint, spent bigint)
LANGUAGE sql STABLE AS $$
    WITH f AS (SELECT * FROM unnest(rows))
    SELECT 'persons', '', sign * count(*), 0::bigint, 0::bigint FROM f
    UNION ALL
    SELECT 'ready', '', sign * count(*) FILTER (WHERE f.ready_for_sign_off), 0, 0 FROM f
    UNION ALL
    SELECT 'enrolled', s.stream, sign * count(*), 0, 0
      FROM f, unnest(f.enrolled) AS s(stream) GROUP BY s.stream
    UNION ALL
    SELECT 'complete', s.stream, sign * count(*), 0, 0
      FROM f, unnest(f.enrolled) AS s(stream)
     WHERE s.stream = ANY (f.complete_streams) GROUP BY s.stream
    UNION ALL
    SELECT 'budget', b.stream, sign * count(*), sign * sum(b.allocated)::bigint,
           sign * sum(b.spent)::bigint
      FROM f, unnest(f.budget_streams, f.budget_allocated, f.budget_spent)
              AS b(stream, allocated, spent)
     GROUP BY b.stream
    UNION ALL
    SELECT 'priority.' || a.priority, a.area::text, sign * count(*), 0, 0
      FROM f, unnest(f.area_priority) WITH ORDINALITY AS a(priority, area)
     GROUP BY a.priority, a.area
    UNION ALL
    SELECT 'conflict', a.area::text, sign * count(*) FILTER (WHERE f.area_conflict[a.area]), 0, 0
      FROM f, unnest(f.area_priority) WITH ORDINALITY AS a(priority, area)
     GROUP BY a.area
$$;

-- The difference between what the old rows and the new rows count, added
-- where it is not nothing.
CREATE FUNCTION figure_add(gone current_figures[], added current_figures[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO figure_count AS t (figure, key, n, allocated, spent)
    SELECT figure, key, sum(n), sum(allocated), sum(spent)
      FROM (SELECT * FROM figure_rows(gone, -1) UNION ALL SELECT * FROM figure_rows(added, 1)) d
     GROUP BY figure, key
    HAVING sum(n) <> 0 OR sum(allocated) <> 0 OR sum(spent) <> 0
        ON CONFLICT (figure, key) DO UPDATE
       SET n = t.n + EXCLUDED.n, allocated = t.allocated + EXCLUDED.allocated,
           spent = t.spent + EXCLUDED.spent
$$;

-- What schedule rows count, old ones taken away and new ones added: a row
-- with a review date counts on that day for each stream it covers and for
-- its lead.
CREATE FUNCTION schedule_day_add(gone schedule[], added schedule[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO schedule_day AS t (kind, code, review_on, n)
    SELECT kind, code, review_on, sum(n) FROM (
        SELECT 'S'::"char" AS kind, c.code, r.review_on, r.sign AS n
          FROM (SELECT g.*, -1 AS sign FROM unnest(gone) g
                UNION ALL SELECT a.*, 1 FROM unnest(added) a) r, unnest(r.covered) AS c(code)
         WHERE r.review_on IS NOT NULL
        UNION ALL
        SELECT 'L'::"char", r.lead, r.review_on, r.sign
          FROM (SELECT g.*, -1 AS sign FROM unnest(gone) g
                UNION ALL SELECT a.*, 1 FROM unnest(added) a) r
         WHERE r.review_on IS NOT NULL AND r.lead IS NOT NULL) d
     GROUP BY kind, code, review_on
    HAVING sum(n) <> 0
        ON CONFLICT (kind, code, review_on) DO UPDATE SET n = t.n + EXCLUDED.n
$$;

-- One trigger function for both: what a statement took away (its old
-- rows) is subtracted, what it put (its new rows) added.
CREATE FUNCTION counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF TG_TABLE_NAME = 'schedule' THEN
            DELETE FROM schedule_day;
        ELSE
            DELETE FROM figure_count;
        END IF;
        RETURN NULL;
    END IF;
    -- Each branch names only the transition tables its operation has.
    IF TG_TABLE_NAME = 'schedule' THEN
        IF TG_OP = 'INSERT' THEN
            PERFORM schedule_day_add('{}', ARRAY(SELECT n::schedule FROM added n));
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM schedule_day_add(ARRAY(SELECT o::schedule FROM gone o), '{}');
        ELSE
            PERFORM schedule_day_add(ARRAY(SELECT o::schedule FROM gone o),
                                     ARRAY(SELECT n::schedule FROM added n));
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM figure_add('{}', ARRAY(SELECT n::current_figures FROM added n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM figure_add(ARRAY(SELECT o::current_figures FROM gone o), '{}');
    ELSE
        PERFORM figure_add(ARRAY(SELECT o::current_figures FROM gone o),
                           ARRAY(SELECT n::current_figures FROM added n));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER figure_count_inserted AFTER INSERT ON current_figures
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION counts_follow();
CREATE TRIGGER figure_count_updated AFTER UPDATE ON current_figures
    REFERENCING OLD TABLE AS gone NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION counts_follow();
CREATE TRIGGER figure_count_deleted AFTER DELETE ON current_figures
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION counts_follow();
CREATE TRIGGER figure_count_truncated AFTER TRUNCATE ON current_figures
    FOR EACH STATEMENT EXECUTE FUNCTION counts_follow();
CREATE TRIGGER schedule_day_inserted AFTER INSERT ON schedule
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION counts_follow();
CREATE TRIGGER schedule_day_updated AFTER UPDATE ON schedule
    REFERENCING OLD TABLE AS gone NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION counts_follow();
CREATE TRIGGER schedule_day_deleted AFTER DELETE ON schedule
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION counts_follow();
CREATE TRIGGER schedule_day_truncated AFTER TRUNCATE ON schedule
    FOR EACH STATEMENT EXECUTE FUNCTION counts_follow();

-- What is there already, 10,000 persons at a time.
DO $$
DECLARE
    after text := '';
    figures current_figures[];
    schedules schedule[];
BEGIN
    LOOP
        figures := ARRAY(SELECT f FROM current_figures f WHERE f.nhs_number > after
                          ORDER BY f.nhs_number LIMIT 10000);
        EXIT WHEN cardinality(figures) = 0;
        PERFORM figure_add('{}', figures);
        after := figures[cardinality(figures)].nhs_number;
    END LOOP;
    after := '';
    LOOP
        schedules := ARRAY(SELECT s FROM schedule s WHERE s.nhs_number > after
                            ORDER BY s.nhs_number LIMIT 10000);
        EXIT WHEN cardinality(schedules) = 0;
        PERFORM schedule_day_add('{}', schedules);
        after := schedules[cardinality(schedules)].nhs_number;
    END LOOP;
END
$$;
