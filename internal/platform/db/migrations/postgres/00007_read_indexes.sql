-- +goose Up
-- Dashboards read facts by metric and a division range: with the value in
-- the index PostgreSQL answers from the index alone (an index-only scan)
-- instead of one heap page per row, which keeps a county's figures flat as
-- cases grow (docs/benchmarks.md, "Service window: dashboard"). SQLite keeps
-- facts in primary-key order already and needs nothing.
CREATE INDEX facts_covering ON facts (metric, division, period) INCLUDE (value);

-- Open311's GET tokens/{token} finds a case by its token (only online
-- requests have one).
CREATE INDEX cases_token ON cases (token) WHERE token <> '';

-- +goose Down
DROP INDEX cases_token;
DROP INDEX facts_covering;
