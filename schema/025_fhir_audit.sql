-- 025: joinedreview-web's FHIR answers are audited like its pages: every
-- person whose record an answer holds gets a web_audit row, page 'fhir'.
ALTER TABLE web_audit DROP CONSTRAINT web_audit_page_check;
ALTER TABLE web_audit ADD CONSTRAINT web_audit_page_check
    CHECK (page IN ('review', 'pack', 'fhir'));
