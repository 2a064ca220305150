-- 005: identifiers compare byte for byte, and the event log's hot path
-- carries no per-row foreign-key trigger.
--
-- NHS numbers, NI numbers, stream codes, source event ids, client ids and
-- notice keys are codes, not words: their order is the order of their bytes
-- (collation "C"), which is also what makes their indexes cheap to search and
-- to grow. A database created with a linguistic locale (en_GB.UTF-8,
-- C.UTF-8) would otherwise compare every key through the locale.
--
-- event.nhs_number loses its reference to person: the daemon is the only
-- writer of both, creates the person in the same transaction before any of
-- their events, and never deletes a person, while the check cost a lookup in
-- person for every event stored (two thirds more time per row in bulk).
-- Every other reference to person stays.
--
-- The reporting views read these columns, so they are set aside and
-- recreated from their own stored definitions, with the analyst's grant.

DO $$
DECLARE
    v record;
    views text[] := '{}';
    defs text[] := '{}';
    readable boolean[] := '{}';
BEGIN
    FOR v IN SELECT c.relname::text AS name, pg_get_viewdef(c.oid) AS def,
                    has_table_privilege('joinedreview_reader', c.oid, 'SELECT') AS reader
             FROM pg_class c
             WHERE c.relkind = 'v' AND c.relnamespace = current_schema()::regnamespace
             ORDER BY c.oid
    LOOP
        views := views || v.name;
        defs := defs || v.def;
        readable := readable || v.reader;
    END LOOP;
    FOR i IN REVERSE coalesce(array_length(views, 1), 0) .. 1 LOOP
        EXECUTE format('DROP VIEW %I', views[i]);
    END LOOP;

    ALTER TABLE event DROP CONSTRAINT event_nhs_number_fkey;
    ALTER TABLE identity_link DROP CONSTRAINT identity_link_nhs_number_fkey;
    ALTER TABLE consolidated_review DROP CONSTRAINT consolidated_review_nhs_number_fkey;
    ALTER TABLE schedule DROP CONSTRAINT schedule_nhs_number_fkey;
    ALTER TABLE due_notice DROP CONSTRAINT due_notice_nhs_number_fkey;

    ALTER TABLE person ALTER COLUMN nhs_number TYPE text COLLATE "C";
    ALTER TABLE identity_link
        ALTER COLUMN kind TYPE text COLLATE "C",
        ALTER COLUMN stream TYPE text COLLATE "C",
        ALTER COLUMN value TYPE text COLLATE "C",
        ALTER COLUMN nhs_number TYPE text COLLATE "C";
    ALTER TABLE event
        ALTER COLUMN stream TYPE text COLLATE "C",
        ALTER COLUMN source_event_id TYPE text COLLATE "C",
        ALTER COLUMN nhs_number TYPE text COLLATE "C",
        ALTER COLUMN ni_number TYPE text COLLATE "C",
        ALTER COLUMN local_id TYPE text COLLATE "C";
    ALTER TABLE consolidated_review ALTER COLUMN nhs_number TYPE text COLLATE "C";
    ALTER TABLE outbox ALTER COLUMN nhs_number TYPE text COLLATE "C";
    ALTER TABLE schedule ALTER COLUMN nhs_number TYPE text COLLATE "C";
    ALTER TABLE due_notice
        ALTER COLUMN nhs_number TYPE text COLLATE "C",
        ALTER COLUMN key TYPE text COLLATE "C";

    ALTER TABLE identity_link ADD FOREIGN KEY (nhs_number) REFERENCES person (nhs_number);
    ALTER TABLE consolidated_review ADD FOREIGN KEY (nhs_number) REFERENCES person (nhs_number);
    ALTER TABLE schedule ADD FOREIGN KEY (nhs_number) REFERENCES person (nhs_number);
    ALTER TABLE due_notice ADD FOREIGN KEY (nhs_number) REFERENCES person (nhs_number);

    FOR i IN 1 .. coalesce(array_length(views, 1), 0) LOOP
        EXECUTE format('CREATE VIEW %I AS %s', views[i], defs[i]);
        IF readable[i] THEN
            EXECUTE format('GRANT SELECT ON %I TO joinedreview_reader', views[i]);
        END IF;
    END LOOP;
END
$$;
