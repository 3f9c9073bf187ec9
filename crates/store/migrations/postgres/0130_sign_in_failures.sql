-- Failed sign-ins per account name typed and per client address (issue 16: password guessing). PostgreSQL dialect; keep in
-- step with the other. On Citus an ordinary coordinator table. A row is cleared by a successful sign-in of its account;
-- an address's row lapses after a quiet period (domain::signin).
CREATE TABLE sign_in_failures (
    subject  TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_at  BIGINT NOT NULL
);
