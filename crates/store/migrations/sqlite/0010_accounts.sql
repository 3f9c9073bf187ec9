-- Accounts, API keys, sessions, the audit log of staff reads of personal data, and each case's access facts.
-- SQLite dialect; keep in step with ../postgres. Owned by the server (issue 6).
CREATE TABLE accounts (
    name          TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    office        TEXT,
    password_hash TEXT,
    created_at    BIGINT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0
);

-- Only the SHA-256 of a key is kept; the key itself is shown once when it is created.
CREATE TABLE api_keys (
    hash       TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    office     TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    account    TEXT NOT NULL REFERENCES accounts (name),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    account TEXT NOT NULL,
    role    TEXT NOT NULL,
    action  TEXT NOT NULL,
    case_id BIGINT,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id);

-- Who may see a case besides its territory's staff, and what a petition complains about (for petitioner privacy).
CREATE TABLE case_access (
    case_id           BIGINT PRIMARY KEY,
    reporter_account  TEXT,
    complained_unit   TEXT,
    complained_office TEXT,
    token             TEXT UNIQUE,
    api_key           TEXT
);
CREATE INDEX case_access_reporter ON case_access (reporter_account);
