-- Photos of a report (issue 11): up to five per case, stored re-encoded (no camera metadata) with a thumbnail.
-- SQLite dialect; keep in step with ../postgres.
-- A photo is uploaded with the report's form before the case exists: it waits under the draft's upload token
-- (case_id NULL) and is attached when the case is filed; unattached uploads older than a day are purged. No foreign
-- key to cases: on Citus the cases are distributed by id and this table stays on the coordinator.
CREATE TABLE case_photos (
    id           INTEGER PRIMARY KEY,
    upload_token TEXT NOT NULL,
    case_id      INTEGER,
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    image        BLOB NOT NULL,
    thumbnail    BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX case_photos_case ON case_photos (case_id);
CREATE INDEX case_photos_token ON case_photos (upload_token);
