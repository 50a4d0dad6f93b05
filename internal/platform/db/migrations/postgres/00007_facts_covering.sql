-- +goose Up
-- Dashboards read facts by metric and a division range: with the value in
-- the index PostgreSQL answers from the index alone (an index-only scan)
-- instead of one heap page per row, which keeps a county's figures flat as
-- cases grow (docs/benchmarks.md, "Service window: dashboard"). SQLite keeps
-- facts in primary-key order already and needs nothing.
CREATE INDEX facts_covering ON facts (metric, division, period) INCLUDE (value);

-- +goose Down
DROP INDEX facts_covering;
