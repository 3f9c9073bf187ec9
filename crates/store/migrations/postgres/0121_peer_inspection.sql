-- Peer inspection (issue 14, part 4). PostgreSQL dialect; keep in step with ../sqlite.
-- Instants are epoch seconds. On Citus these stay ordinary coordinator tables: small, read by case id only through
-- the application, never joined with case tables.

-- The inspectors drawn for a township and a month (`YYYY-MM`), each from an adjoining township, with the seed.
CREATE TABLE inspection_draws (
    township   TEXT NOT NULL,
    month      TEXT NOT NULL,
    inspector  TEXT NOT NULL,
    from_unit  TEXT NOT NULL,
    seed       BIGINT NOT NULL,
    drawn_at   BIGINT NOT NULL,
    PRIMARY KEY (township, month, inspector)
);

-- The closed cases of the township sampled for that month's audit.
CREATE TABLE inspection_samples (
    township TEXT NOT NULL,
    month    TEXT NOT NULL,
    case_id  BIGINT NOT NULL,
    PRIMARY KEY (township, month, case_id)
);
CREATE INDEX inspection_samples_case ON inspection_samples (case_id);
