-- +goose Up
-- Address search (internal/registry/search.go): each household has
-- one key per character position of its normalised address, the next 12
-- characters from there, so "the address contains T" (T of at most 12
-- characters) is a prefix range of this index; a longer T is looked up by
-- two of its parts and checked whole. Portable: pg_trgm would ignore CJK
-- characters in a C-locale database. The application writes the keys with
-- every change of a household (internal/registry/search.go); this builds them
-- for the households that exist.
CREATE TABLE household_keys (
    key          TEXT   COLLATE "C" NOT NULL,
    village      BIGINT NOT NULL,
    household_id BIGINT NOT NULL,
    PRIMARY KEY (key, village, household_id)
);
CREATE INDEX household_keys_household ON household_keys (household_id);

-- The normal form is normAddress's: full-width ASCII forms as ASCII, Latin
-- letters in lower case, white space removed (translate drops the characters
-- of its second argument that the third does not map).
-- +goose StatementBegin
INSERT INTO household_keys (key, village, household_id)
SELECT DISTINCT substr(n.norm, i, 12), n.village, n.id
FROM (SELECT id, village, translate(address,
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～'
        || ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(160) || chr(12288),
        'abcdefghijklmnopqrstuvwxyz!"#$%&''()*+,-./0123456789:;<=>' || chr(63) -- the question mark, spelt out so as not to read as a placeholder
        || '@abcdefghijklmnopqrstuvwxyz[\]^_`abcdefghijklmnopqrstuvwxyz{|}~') AS norm
      FROM households) n,
     generate_series(1, char_length(n.norm)) AS i;
-- +goose StatementEnd

-- +goose Down
DROP TABLE household_keys;
