-- +goose Up
-- Divisions: the name index serves no query (search is a substring match,
-- LIKE '%…%', bounded by a code range, which uses the primary key), and it
-- made a full import of the national list ~0.75 s slower on SQLite. Tree
-- navigation uses divisions_parent (parent, code); subtrees use the code range.
DROP INDEX divisions_name;

-- +goose Down
CREATE INDEX divisions_name ON divisions (name);
