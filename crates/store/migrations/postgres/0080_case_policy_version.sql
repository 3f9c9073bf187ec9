-- The clocks a case runs on, recorded when it is stored (issue 10: no retroactive rules). PostgreSQL dialect; keep in
-- step with ../sqlite.
-- A case keeps the clocks in force where and when it was filed, whatever policy layer or pilot is saved later: each
-- distinct set of clocks is stored once, as JSON, under a version that is a hash of that JSON, and never changed.
CREATE TABLE clock_versions (
    version TEXT PRIMARY KEY,
    clocks  TEXT NOT NULL
);

-- NULL for a case stored before cases recorded their clocks: it runs on the clocks in force at its filing date as
-- the policy layers on record say.
ALTER TABLE cases ADD COLUMN clocks_version TEXT REFERENCES clock_versions (version);
