-- +goose Up
-- PostgreSQL adds a covering index on facts here; SQLite stores facts in
-- primary-key order already (see the postgres migration), so this version
-- only keeps the two histories in step.
SELECT 1;

-- +goose Down
SELECT 1;
