-- The answers to a category's questions (issue 11; domain::questions), as a JSON object by question code, NULL when
-- none were asked or given. PostgreSQL dialect; keep in step with ../sqlite. On Citus the column is added to every shard.
ALTER TABLE cases ADD COLUMN answers TEXT;
