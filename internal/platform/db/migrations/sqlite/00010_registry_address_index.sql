-- +goose Up
-- Address search (internal/registry/search.go): each household has
-- one key per character position of its normalised address, the next 12
-- characters from there, so "the address contains T" (T of at most 12
-- characters) is a prefix range of this index; a longer T is looked up by
-- two of its parts and checked whole. The application writes the keys with
-- every change of a household (internal/registry/search.go); this builds them
-- for the households that exist.
CREATE TABLE household_keys (
    key          TEXT    NOT NULL,
    village      INTEGER NOT NULL,
    household_id INTEGER NOT NULL,
    PRIMARY KEY (key, village, household_id)
) WITHOUT ROWID;
CREATE INDEX household_keys_household ON household_keys (household_id);

-- The normal form is normAddress's: full-width ASCII forms as ASCII, Latin
-- letters in lower case (lower() maps ASCII only), white space removed. The
-- first CTE rebuilds each address character by character (substr and length
-- count characters), the second cuts it into keys.
-- +goose StatementBegin
WITH RECURSIVE
norm(id, village, rest, out) AS (
    SELECT id, village, address, '' FROM households WHERE address <> ''
    UNION ALL
    SELECT id, village, substr(rest, 2), out || (
        CASE WHEN substr(rest, 1, 1) IN (' ', char(9), char(10), char(11), char(12), char(13), char(160), char(12288)) THEN ''
             WHEN unicode(substr(rest, 1, 1)) BETWEEN 65281 AND 65374 THEN lower(char(unicode(substr(rest, 1, 1)) - 65248))
             ELSE lower(substr(rest, 1, 1)) END)
    FROM norm WHERE rest <> ''
),
pos(id, village, s, i) AS (
    SELECT id, village, out, 1 FROM norm WHERE rest = '' AND out <> ''
    UNION ALL
    SELECT id, village, s, i + 1 FROM pos WHERE i < length(s)
)
INSERT OR IGNORE INTO household_keys (key, village, household_id)
SELECT substr(s, i, 12), village, id FROM pos;
-- +goose StatementEnd

-- +goose Down
DROP TABLE household_keys;
