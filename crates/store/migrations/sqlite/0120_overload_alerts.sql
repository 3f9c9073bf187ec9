-- Overload alerts (issue 14, part 1). SQLite dialect; keep in step with ../postgres.
-- Instants are epoch seconds. On Citus this stays an ordinary coordinator table: small, never joined with case tables.

-- One alert per office or staff member per month at most: the table is the guard's memory, as a case's log is for
-- deadline alerts. `notified` lists the addressees (the office and its heads), one per line.
CREATE TABLE overload_alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    subject    TEXT NOT NULL,
    holder     TEXT NOT NULL,
    office     TEXT NOT NULL,
    unit       TEXT NOT NULL,
    month      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    open_cases BIGINT NOT NULL,
    workers    BIGINT NOT NULL,
    threshold  BIGINT NOT NULL,
    notified   TEXT NOT NULL,
    UNIQUE (subject, holder, month)
);
CREATE INDEX overload_alerts_unit ON overload_alerts (unit);
