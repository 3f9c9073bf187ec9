-- Self-governance compacts and consultations (issue 13). SQLite dialect; keep in step with ../postgres.
-- Instants are epoch seconds. On Citus these stay ordinary coordinator tables, like policy layers and pilots: small,
-- never joined with case tables.

-- One version of a village's or community's compact; an amendment is the next version of the same unit.
CREATE TABLE compacts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    unit          TEXT NOT NULL,
    version       BIGINT NOT NULL,
    title         TEXT NOT NULL,
    state         TEXT NOT NULL,
    drafted_by    TEXT NOT NULL,
    drafted_at    BIGINT NOT NULL,
    comment_until BIGINT,
    vote_closes   BIGINT,
    -- The resident accounts of the unit when the vote opened: the quorum's denominator.
    electorate    BIGINT,
    filed_at      BIGINT,
    UNIQUE (unit, version)
);

CREATE TABLE compact_clauses (
    compact_id BIGINT NOT NULL REFERENCES compacts (id),
    number     BIGINT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (compact_id, number)
);

CREATE TABLE compact_comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    compact_id BIGINT NOT NULL REFERENCES compacts (id),
    clause     BIGINT,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX compact_comments_compact ON compact_comments (compact_id);

-- The secret ballot: who voted is kept here, with no time and no choice; what was voted is only a count per choice
-- in compact_tallies, so that no row ties a ballot to a voter. Both change in the same transaction.
CREATE TABLE compact_voters (
    compact_id BIGINT NOT NULL REFERENCES compacts (id),
    account    TEXT NOT NULL,
    PRIMARY KEY (compact_id, account)
);

CREATE TABLE compact_tallies (
    compact_id BIGINT NOT NULL REFERENCES compacts (id),
    choice     TEXT NOT NULL,
    votes      BIGINT NOT NULL,
    PRIMARY KEY (compact_id, choice)
);

-- The lifecycle of a version: drafted, comments opened, vote opened, vote closed (with the published result),
-- filed, refused at filing (naming the clauses), superseded.
CREATE TABLE compact_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    compact_id BIGINT NOT NULL REFERENCES compacts (id),
    action     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX compact_events_compact ON compact_events (compact_id);

-- A consultation on a draft policy layer, a pilot or a compact.
CREATE TABLE consultations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit         TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_ref  TEXT NOT NULL,
    title        TEXT NOT NULL,
    draft        TEXT NOT NULL,
    state        TEXT NOT NULL,
    opened_by    TEXT NOT NULL,
    opened_at    BIGINT NOT NULL,
    closed_at    BIGINT,
    adopted_at   BIGINT
);

CREATE TABLE consultation_invitations (
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    account         TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    PRIMARY KEY (consultation_id, account)
);

CREATE TABLE consultation_opinions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    account         TEXT NOT NULL,
    body            TEXT NOT NULL,
    at              BIGINT NOT NULL,
    verdict         TEXT,
    reason          TEXT,
    replied_at      BIGINT,
    replied_by      TEXT
);
CREATE INDEX consultation_opinions_consultation ON consultation_opinions (consultation_id);

CREATE TABLE consultation_comments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    author          TEXT NOT NULL,
    body            TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX consultation_comments_consultation ON consultation_comments (consultation_id);
