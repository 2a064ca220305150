-- 001: the append-only event log, persons and identity links, consolidated
-- reviews, the publication outbox, and the rejected-input store.

-- A person, keyed by normalised NHS number. `cycle` is the current review cycle.
CREATE TABLE person (
    nhs_number  text PRIMARY KEY CHECK (nhs_number ~ '^[0-9]{10}$'),
    cycle       integer NOT NULL DEFAULT 1 CHECK (cycle >= 1),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Identifiers linked to a person by an enrolment: kind 'NINO' (stream '')
-- or 'LOCAL' (a stream's own client id).
CREATE TABLE identity_link (
    kind        text NOT NULL CHECK (kind IN ('NINO', 'LOCAL')),
    stream      text NOT NULL,
    value       text NOT NULL,
    nhs_number  text NOT NULL REFERENCES person (nhs_number),
    linked_by   bigint NOT NULL,          -- event.id of the enrolment
    PRIMARY KEY (kind, stream, value)
);

-- Every accepted event, exactly once per (stream, source_event_id). The raw
-- envelope is the source of truth: --rebuild replays it.
-- nhs_number and cycle are NULL while the event is parked.
CREATE TABLE event (
    id              bigserial PRIMARY KEY,
    stream          text NOT NULL,
    source_event_id text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('ENROLMENT', 'CONTRIBUTION', 'REVIEW_HELD', 'PLAN_REVISION')),
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    sender          text NOT NULL,
    nhs_number      text REFERENCES person (nhs_number),
    ni_number       text,
    local_id        text,
    cycle           integer,
    seq             bigint,               -- the publication that first reflected it
    envelope        bytea NOT NULL,
    UNIQUE (stream, source_event_id),
    CHECK ((nhs_number IS NULL) = (cycle IS NULL))
);
CREATE INDEX event_person_cycle ON event (nhs_number, cycle);
CREATE INDEX event_person_enrolment ON event (nhs_number) WHERE kind = 'ENROLMENT';
CREATE INDEX event_parked_nino ON event (ni_number) WHERE nhs_number IS NULL;
CREATE INDEX event_parked_local ON event (stream, local_id) WHERE nhs_number IS NULL;

-- The consolidated review of each person and cycle: the packed
-- joinedreview.v1.ConsolidatedReview, including its sequence number.
CREATE TABLE consolidated_review (
    nhs_number          text NOT NULL REFERENCES person (nhs_number),
    cycle               integer NOT NULL,
    version             integer NOT NULL,
    seq                 bigint NOT NULL,
    ready_for_sign_off  boolean NOT NULL,
    held_on             date,
    record              bytea NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (nhs_number, cycle)
);

-- Every publication, in commit order; seq is the global sequence number and
-- has no gaps (the daemon is the only writer and allocates it in the
-- transaction that writes the row).
CREATE TABLE outbox (
    seq         bigint PRIMARY KEY,
    topic       text NOT NULL,
    nhs_number  text,
    payload     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Input the daemon refused: kept for a person to inspect.
CREATE TABLE rejected_event (
    id              bigserial PRIMARY KEY,
    received_at     timestamptz NOT NULL DEFAULT now(),
    sender          text NOT NULL,
    stream          text,
    source_event_id text,
    reason_code     text NOT NULL,
    reason          text NOT NULL,
    raw             bytea NOT NULL
);
CREATE INDEX rejected_event_received ON rejected_event (received_at);
