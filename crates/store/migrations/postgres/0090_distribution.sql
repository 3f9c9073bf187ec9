-- The distribution of the tables on a Citus cluster (issue 15). PostgreSQL dialect; keep in step with ../sqlite,
-- where this migration does nothing. On plain PostgreSQL it only defines grassroots_distribute(); on a database with
-- the citus extension it also calls it. `grassroots cluster init` calls it too, so a database that had its
-- migrations before the extension was created is distributed then. docs/scale.md explains the choices.
--
-- * A case lives on one shard with its log, its reporter and its access facts: cases by id, case_events, reporters
--   and case_access by case_id, co-located. Every read and write of one case goes to one worker; a listing or report
--   runs on all shards in parallel.
-- * The territory, grids and the office directory are reference tables (a copy on every node), so that cases join
--   them on any shard.
-- * Everything else stays on the coordinator as ordinary tables: accounts, sessions, API keys, the audit log, the
--   clocks on record, policy layers and pilots, meta. They are small, never joined with case tables on a shard,
--   and their writes (a sign-in, a clock version at intake) must not need every worker up, as writes to a reference
--   table do.
CREATE OR REPLACE FUNCTION grassroots_distribute() RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    reference_tables text[] := ARRAY['units', 'grids', 'grid_cells', 'grid_workers', 'boundaries', 'offices', 'staff',
                                     'mediation_teams', 'mediation_team_members'];
    -- The first is the anchor every other is co-located with.
    case_tables text[] := ARRAY['cases', 'case_events', 'reporters', 'case_access'];
    all_tables text[] := reference_tables || case_tables;
    fk record;
    fks text[] := '{}';
    t text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'cases'::regclass) THEN
        RETURN;
    END IF;
    -- One connection per worker for the DDL of this transaction (sqlx runs a migration in one transaction).
    SET LOCAL citus.multi_shard_modify_mode = 'sequential';
    -- Foreign keys between these tables are dropped while the tables change kind and added back afterwards; the one
    -- from a case to the clocks on record (a coordinator table) cannot exist on a shard and is left out.
    FOR fk IN
        SELECT c.conname, c.conrelid::regclass::text AS tab, c.confrelid::regclass::text AS ref,
               pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY (all_tables)
    LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', fk.tab, fk.conname);
        IF fk.ref = ANY (all_tables) THEN
            fks := fks || format('ALTER TABLE %I ADD CONSTRAINT %I %s', fk.tab, fk.conname, fk.def);
        END IF;
    END LOOP;
    -- A unique key of a distributed table must contain its distribution column: an Open311 token (random, 128 bits)
    -- is looked up by an ordinary index instead.
    ALTER TABLE case_access DROP CONSTRAINT IF EXISTS case_access_token_key;
    CREATE INDEX IF NOT EXISTS case_access_token ON case_access (token);
    FOREACH t IN ARRAY reference_tables LOOP
        PERFORM create_reference_table(t);
    END LOOP;
    PERFORM create_distributed_table('cases', 'id');
    FOREACH t IN ARRAY case_tables[2:] LOOP
        PERFORM create_distributed_table(t, 'case_id', colocate_with => 'cases');
    END LOOP;
    FOREACH t IN ARRAY fks LOOP
        EXECUTE t;
    END LOOP;
END
$fn$;

SELECT grassroots_distribute();
