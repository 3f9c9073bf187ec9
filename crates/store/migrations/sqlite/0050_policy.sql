-- Policy layers and pilots (issue 5). SQLite dialect; keep in step with ../postgres.
-- Dates of effect are 'YYYY-MM-DD' text; instants are epoch seconds.

-- Every accepted version of a unit's layer, as its TOML text. Append-only: a second version for the same unit and
-- day supersedes the first (the one with the higher id wins), and both stay on record.
CREATE TABLE policy_versions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    unit           TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    source         TEXT NOT NULL,
    body           TEXT NOT NULL,
    saved_at       BIGINT NOT NULL,
    saved_by       TEXT NOT NULL
);
CREATE INDEX policy_versions_unit ON policy_versions (unit, effective_from);

-- The audit trail of policy changes: saved, rejected (with the broken guardrails), codified from a pilot.
CREATE TABLE policy_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    unit           TEXT NOT NULL,
    effective_from TEXT,
    kind           TEXT NOT NULL,
    source         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             BIGINT NOT NULL,
    detail         TEXT NOT NULL
);
CREATE INDEX policy_events_unit ON policy_events (unit);

CREATE TABLE pilots (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    owner      TEXT NOT NULL,
    spec       TEXT NOT NULL,
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The lifecycle actions of a pilot; its state is their replay.
CREATE TABLE pilot_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    pilot_id BIGINT NOT NULL REFERENCES pilots (id),
    action   TEXT NOT NULL,
    actor    TEXT NOT NULL,
    at       BIGINT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX pilot_events_pilot ON pilot_events (pilot_id);

-- The fault-tolerance record: the filing with the level above, as JSON.
CREATE TABLE pilot_filings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    pilot_id   BIGINT NOT NULL REFERENCES pilots (id),
    filed_at   BIGINT NOT NULL,
    filed_with TEXT,
    record     TEXT NOT NULL
);

-- Units that took up an expanded practice later: each adoption is a new cohort.
CREATE TABLE pilot_adoptions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    pilot_id  BIGINT NOT NULL REFERENCES pilots (id),
    units     TEXT NOT NULL,
    from_date TEXT NOT NULL,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL
);
