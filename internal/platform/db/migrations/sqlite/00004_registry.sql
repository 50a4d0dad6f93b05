-- +goose Up
-- Registry: households and residents (NH-1, NT-2, XS-10). Personal data is
-- encrypted (SM4) with keyed SM3 lookups; see docs/decisions/0006.
CREATE TABLE households (
    id          INTEGER PRIMARY KEY,
    county      INTEGER NOT NULL,              -- distribution key for a sharded PostgreSQL
    village     INTEGER NOT NULL,              -- 15-digit village code
    grid        INTEGER NOT NULL DEFAULT 0,    -- 15-digit grid code, 0 when none
    number      TEXT    NOT NULL DEFAULT '',   -- 户号, unique within the village when given
    kind        TEXT    NOT NULL DEFAULT 'family',
    address     TEXT    NOT NULL DEFAULT '',
    house_no    TEXT    NOT NULL DEFAULT '',
    head_lookup TEXT    NOT NULL DEFAULT '',  -- keyed SM3 of the head's ID number, to group imported rows
    lat         REAL,                          -- WGS-84 / CGCS2000
    lon         REAL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX households_division ON households (village, grid);
CREATE INDEX households_head ON households (head_lookup) WHERE head_lookup <> '';
CREATE UNIQUE INDEX households_number ON households (village, number) WHERE number <> '';

CREATE TABLE residents (
    id           INTEGER PRIMARY KEY,
    county       INTEGER NOT NULL,
    division     INTEGER NOT NULL,             -- where the resident lives now: grid, else village
    household_id INTEGER NOT NULL DEFAULT 0,
    relation     TEXT    NOT NULL DEFAULT '',  -- to the household head; 'head' for the head
    name         TEXT    NOT NULL,
    gender       TEXT    NOT NULL,             -- 'M' or 'F'
    birth        INTEGER NOT NULL,             -- YYYYMMDD
    ethnicity    TEXT    NOT NULL DEFAULT '',
    id_enc       TEXT    NOT NULL DEFAULT '',  -- SM4-GCM ciphertext of the 18-digit ID number
    id_lookup    TEXT,                         -- keyed SM3 of the ID number (NULL when none)
    id_masked    TEXT    NOT NULL DEFAULT '',  -- 320205********123X, what screens and exports show
    id_tail4     TEXT    NOT NULL DEFAULT '',  -- keyed hash of the last 4 characters
    id_tail6     TEXT    NOT NULL DEFAULT '',  -- keyed hash of the last 6 characters
    phone_enc    TEXT    NOT NULL DEFAULT '',
    phone_masked TEXT    NOT NULL DEFAULT '',
    phone_lookup TEXT    NOT NULL DEFAULT '',
    phone_tail4  TEXT    NOT NULL DEFAULT '',
    residency    TEXT    NOT NULL,             -- registered, non_registered, migrant
    status       TEXT    NOT NULL DEFAULT 'present', -- present, moved_out, deceased
    party_member INTEGER NOT NULL DEFAULT 0,
    education    TEXT    NOT NULL DEFAULT '',
    employment   TEXT    NOT NULL DEFAULT '',
    since        INTEGER NOT NULL,             -- YYYYMMDD the current stint began
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX residents_division ON residents (division, status);
CREATE INDEX residents_household ON residents (household_id);
CREATE INDEX residents_id_lookup ON residents (id_lookup);
CREATE INDEX residents_phone ON residents (phone_lookup);
CREATE INDEX residents_tail4 ON residents (id_tail4);
CREATE INDEX residents_phone_tail4 ON residents (phone_tail4);

-- One person per ID number across the whole deployment (a national lookup
-- table, so uniqueness survives sharding by county).
CREATE TABLE person_ids (
    id_lookup   TEXT    PRIMARY KEY,
    resident_id INTEGER NOT NULL
);

-- Stints: where a resident lived from `since` until `until` (0 = now), so the
-- population of any subtree on any past date is one range query.
CREATE TABLE residencies (
    id           INTEGER PRIMARY KEY,
    resident_id  INTEGER NOT NULL,
    division     INTEGER NOT NULL,
    household_id INTEGER NOT NULL DEFAULT 0,
    residency    TEXT    NOT NULL,
    since        INTEGER NOT NULL,
    until        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX residencies_division ON residencies (division, since);
CREATE INDEX residencies_resident ON residencies (resident_id);

CREATE TABLE resident_tags (
    resident_id INTEGER NOT NULL,
    tag         TEXT    NOT NULL,
    grade       TEXT    NOT NULL DEFAULT '',
    since       INTEGER NOT NULL,
    PRIMARY KEY (resident_id, tag)
);
CREATE INDEX resident_tags_tag ON resident_tags (tag);

-- Changes as events with effective dates: the resident's history page.
CREATE TABLE resident_events (
    id            INTEGER PRIMARY KEY,
    resident_id   INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    effective     INTEGER NOT NULL,            -- YYYYMMDD
    from_division INTEGER NOT NULL DEFAULT 0,
    to_division   INTEGER NOT NULL DEFAULT 0,
    detail        TEXT    NOT NULL DEFAULT '',
    recorded_at   INTEGER NOT NULL,
    recorded_by   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX resident_events_resident ON resident_events (resident_id, effective);

-- Search keys (name, pinyin, initials), bounded by division.
CREATE TABLE resident_keys (
    key         TEXT    NOT NULL,
    division    INTEGER NOT NULL,
    resident_id INTEGER NOT NULL,
    PRIMARY KEY (key, division, resident_id)
) WITHOUT ROWID;
CREATE INDEX resident_keys_resident ON resident_keys (resident_id);

-- Rows an import job refused, written in the transaction of their batch
-- (with the job's checkpoint), read back for the error report.
CREATE TABLE import_errors (
    job_id  INTEGER  NOT NULL,
    line    INTEGER  NOT NULL,
    reason  TEXT    NOT NULL,             -- field: code; … (codes translated for the report)
    cells   TEXT    NOT NULL,             -- the original row, JSON array
    PRIMARY KEY (job_id, line)
);

-- +goose Down
DROP TABLE import_errors;
DROP TABLE resident_keys;
DROP TABLE resident_events;
DROP TABLE resident_tags;
DROP TABLE residencies;
DROP TABLE person_ids;
DROP TABLE residents;
DROP TABLE households;
