-- +goose Up
-- Divisions: 15-digit codes (12-digit statistical code x 1000 + grid part).
CREATE TABLE divisions (
    code        INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    level       INTEGER NOT NULL,
    parent      INTEGER,
    kind        TEXT    NOT NULL DEFAULT '',
    urban_rural INTEGER NOT NULL DEFAULT 0,
    retired_at  INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX divisions_parent ON divisions (parent, code);
CREATE INDEX divisions_name ON divisions (name);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT    NOT NULL UNIQUE,
    display_name        TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT    NOT NULL,
    must_change         INTEGER NOT NULL DEFAULT 1,
    disabled            INTEGER NOT NULL DEFAULT 0,
    locale              TEXT    NOT NULL DEFAULT 'zh-CN',
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE role_assignments (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL,
    division   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, role, division)
);

CREATE TABLE sessions (
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    client       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    username TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    client   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX login_failures_user ON login_failures (username, at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);

-- Audit: append-only, hash-chained (SM3 of the previous entry + this one).
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor_id  INTEGER NOT NULL DEFAULT 0,
    actor     TEXT    NOT NULL DEFAULT '',
    client    TEXT    NOT NULL DEFAULT '',
    action    TEXT    NOT NULL,
    entity    TEXT    NOT NULL DEFAULT '',
    entity_id TEXT    NOT NULL DEFAULT '',
    division  INTEGER NOT NULL DEFAULT 0,
    changes   TEXT    NOT NULL DEFAULT '',
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_division ON audit_log (division);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY,
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Facts: counters kept current in the same transaction as the change.
CREATE TABLE facts (
    division INTEGER NOT NULL,
    period   INTEGER NOT NULL,
    metric   TEXT    NOT NULL,
    value    INTEGER NOT NULL,
    PRIMARY KEY (metric, division, period)
) WITHOUT ROWID;

-- Plain settings (e.g. the first-run marker).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE facts;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE role_assignments;
DROP TABLE users;
DROP TABLE divisions;
