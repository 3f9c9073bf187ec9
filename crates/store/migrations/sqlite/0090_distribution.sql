-- The distribution of the tables on a Citus cluster (issue 15). SQLite dialect; keep in step with ../postgres, where
-- it defines and calls grassroots_distribute(). A SQLite database is never distributed: nothing to do.
SELECT 1;
