-- +goose Up
-- Open311's GET tokens/{token} finds a case by its token (only online
-- requests have one). PostgreSQL also gets a covering index on facts here;
-- SQLite stores facts in primary-key order already and needs none.
CREATE INDEX cases_token ON cases (token) WHERE token <> '';

-- +goose Down
DROP INDEX cases_token;
