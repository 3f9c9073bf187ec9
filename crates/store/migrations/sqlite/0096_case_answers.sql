-- The answers to a category's questions (issue 11; domain::questions), as a JSON object by question code, NULL when
-- none were asked or given. SQLite dialect; keep in step with ../postgres.
ALTER TABLE cases ADD COLUMN answers TEXT;
