-- 002: review dates and due-date notices.

-- Each person's next joined-up review, for the due check: next_check_on is
-- the first day a notice may fall due, so the check reads only what is due
-- (an index range), never every person.
CREATE TABLE schedule (
    nhs_number     text PRIMARY KEY REFERENCES person (nhs_number),
    cycle          integer NOT NULL,
    review_on      date,
    lead           text,
    covered        text[] NOT NULL DEFAULT '{}',
    next_check_on  date,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedule_next_check ON schedule (next_check_on) WHERE next_check_on IS NOT NULL;

-- Every notice decided, once per (person, cycle, key). A notice superseded by
-- a later one (after downtime) is recorded but not published (seq NULL).
CREATE TABLE due_notice (
    nhs_number  text NOT NULL REFERENCES person (nhs_number),
    cycle       integer NOT NULL,
    key         text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('LEAD', 'DUE', 'OVERDUE')),
    notice_on   date NOT NULL,
    review_on   date NOT NULL,
    lead        text,
    seq         bigint REFERENCES outbox (seq),
    decided_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (nhs_number, cycle, key)
);

-- The last sequence number the daemon published, so that after a crash
-- between commit and publication it publishes the rest again at start-up.
CREATE TABLE publish_state (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_published_seq bigint NOT NULL
);
INSERT INTO publish_state VALUES (true, 0);
