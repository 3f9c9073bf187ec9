-- Offices, their staff and mediation teams (issue 3). SQLite dialect; keep in step with ../postgres.
CREATE TABLE offices (
    -- UNIT:KEY, e.g. 330502001:gov or 330502:housing.
    id         TEXT PRIMARY KEY,
    unit       TEXT NOT NULL REFERENCES units (code),
    name       TEXT NOT NULL,
    -- village_committee, township_government, county_government or county_department.
    kind       TEXT NOT NULL,
    sector     TEXT,
    -- Comma-separated categories the office declares it handles (routing prefers the lowest such office).
    categories TEXT NOT NULL DEFAULT ''
);
CREATE INDEX offices_unit ON offices (unit);

CREATE TABLE staff (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    office    TEXT NOT NULL REFERENCES offices (id),
    -- Comma-separated: grid_worker, caseworker, mediator, head.
    roles     TEXT NOT NULL,
    auxiliary BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX staff_office ON staff (office);

CREATE TABLE mediation_teams (
    id     TEXT PRIMARY KEY,
    office TEXT NOT NULL REFERENCES offices (id)
);

-- A member is staff (staff is set) or a community member who is not staff (staff is NULL).
CREATE TABLE mediation_team_members (
    team  TEXT NOT NULL REFERENCES mediation_teams (id),
    seq   BIGINT NOT NULL,
    name  TEXT NOT NULL,
    staff TEXT REFERENCES staff (id),
    PRIMARY KEY (team, seq)
);
