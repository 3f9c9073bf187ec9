-- Accounts can be disabled (issue 10): when, for `grassroots user list`. The audit log of staff reads of personal
-- data records the reader's office, which is what a resident is shown when asking who read their data, and is
-- searched by account and by time.
-- PostgreSQL dialect; keep in step with ../sqlite.
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;
ALTER TABLE audit_log ADD COLUMN office TEXT;
CREATE INDEX audit_log_account ON audit_log (account);
CREATE INDEX audit_log_at ON audit_log (at);
