-- The spine: territory, grids, boundaries, cases as event logs. SQLite dialect; keep in step with ../postgres.
CREATE TABLE units (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    level  TEXT NOT NULL,
    parent TEXT
);
CREATE INDEX units_parent ON units (parent);

CREATE TABLE grids (
    id   TEXT PRIMARY KEY,
    unit TEXT NOT NULL REFERENCES units (code)
);
CREATE INDEX grids_unit ON grids (unit);

CREATE TABLE grid_cells (
    cell BIGINT PRIMARY KEY,
    grid TEXT NOT NULL REFERENCES grids (id)
);

CREATE TABLE grid_workers (
    id        TEXT PRIMARY KEY,
    grid      TEXT NOT NULL REFERENCES grids (id),
    name      TEXT NOT NULL,
    auxiliary BIGINT NOT NULL
);

CREATE TABLE boundaries (
    code    TEXT PRIMARY KEY,
    geojson TEXT NOT NULL
);

CREATE TABLE cases (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    channel        TEXT NOT NULL,
    category       TEXT NOT NULL,
    description    TEXT NOT NULL,
    unit           TEXT NOT NULL REFERENCES units (code),
    grid           TEXT,
    lat            DOUBLE PRECISION,
    lon            DOUBLE PRECISION,
    co_signers     BIGINT NOT NULL DEFAULT 0,
    -- A projection of the event log, kept in the same transaction as each append, for queries.
    state          TEXT NOT NULL,
    office         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    first_reply_at BIGINT,
    closed_at      BIGINT,
    rating         TEXT,
    last_seq       BIGINT NOT NULL
);
CREATE INDEX cases_unit ON cases (unit);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_state ON cases (state);

-- Kept apart from the case so that it can be shielded (2022 Regulations on Letters and Visits Work).
CREATE TABLE reporters (
    case_id BIGINT PRIMARY KEY REFERENCES cases (id),
    name    TEXT NOT NULL,
    contact TEXT NOT NULL
);

CREATE TABLE case_events (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
