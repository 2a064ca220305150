-- 004: least privilege. Three roles:
--   the owner       runs migrations (whoever applies them: the DBA's role);
--   joinedreview_app   the daemon at run time: reads and writes rows, cannot
--                   create, alter or drop anything;
--   joinedreview_reader   analysts and BI tools: the reporting views only.
-- These are group roles without login; the DBA grants them to login roles:
--   CREATE ROLE jr_daemon LOGIN IN ROLE joinedreview_app PASSWORD '...';
-- Creating them needs CREATEROLE; where the owner lacks it, the DBA creates
-- them first and this migration leaves them be.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'joinedreview_app') THEN
        CREATE ROLE joinedreview_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'joinedreview_reader') THEN
        CREATE ROLE joinedreview_reader NOLOGIN;
    END IF;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO joinedreview_app, joinedreview_reader;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO joinedreview_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO joinedreview_app;
REVOKE INSERT, UPDATE, DELETE ON schema_migration FROM joinedreview_app;
-- Objects later migrations create get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO joinedreview_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO joinedreview_app;

GRANT SELECT ON report_current_review, report_completeness_by_stream, report_due_by_stream,
    report_due_by_lead, report_priorities_by_area, report_reviews_held_by_month,
    report_meetings_saved TO joinedreview_reader;
