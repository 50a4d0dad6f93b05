-- +goose Up
-- The one-stop service window (internal/window).

-- Admins' changes to the pack's catalogue of service items, each for one
-- subtree: the most specific row for a code wins over the pack's item.
CREATE TABLE service_items (
    id         INTEGER PRIMARY KEY,
    division   INTEGER NOT NULL,             -- root of the subtree the row applies to
    code       TEXT    NOT NULL,
    definition TEXT    NOT NULL DEFAULT '',  -- JSON policy.WindowItem ('' when only disabled)
    disabled   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT '',
    UNIQUE (division, code)
);

-- One application for a service item (办件).
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,      -- 12-digit unit code-YYYYMMDD-sequence
    county          INTEGER NOT NULL,             -- distribution key
    division        INTEGER NOT NULL,             -- unit whose window accepted it (figures count here)
    holder          INTEGER NOT NULL,             -- unit handling it now
    holder_level    TEXT    NOT NULL,             -- village, township, county, department
    department      TEXT    NOT NULL DEFAULT '',  -- county department when holder_level = department
    handler_id      INTEGER NOT NULL DEFAULT 0,
    handler_name    TEXT    NOT NULL DEFAULT '',
    item_code       TEXT    NOT NULL,
    item_name       TEXT    NOT NULL,             -- zh-CN name at intake
    category        TEXT    NOT NULL,
    item_level      TEXT    NOT NULL,             -- where the matter is decided
    time_limit      INTEGER NOT NULL,             -- working days, at intake
    channel         TEXT    NOT NULL,             -- window, phone, online
    agency          INTEGER NOT NULL DEFAULT 0,   -- 代办: staff carry it for the applicant
    state           TEXT    NOT NULL,
    resume_state    TEXT    NOT NULL DEFAULT '',  -- state to return to after 补正
    is_open         INTEGER NOT NULL,             -- 1 until completed or rejected
    resident_id     INTEGER NOT NULL DEFAULT 0,
    applicant_name  TEXT    NOT NULL,
    phone           TEXT    NOT NULL DEFAULT '',  -- SM4 ciphertext
    phone_masked    TEXT    NOT NULL DEFAULT '',
    id_number       TEXT    NOT NULL DEFAULT '',  -- SM4 ciphertext (walk-in non-residents)
    id_masked       TEXT    NOT NULL DEFAULT '',
    fields          TEXT    NOT NULL DEFAULT '',  -- JSON form values
    materials       TEXT    NOT NULL DEFAULT '',  -- JSON keys of the materials received
    description     TEXT    NOT NULL DEFAULT '',
    address         TEXT    NOT NULL DEFAULT '',
    lat             REAL,
    lon             REAL,
    client_id       INTEGER NOT NULL DEFAULT 0,   -- Open311 client
    token           TEXT    NOT NULL DEFAULT '',  -- Open311 token
    submitted_at    INTEGER NOT NULL,             -- unix ms
    accepted_day    INTEGER NOT NULL DEFAULT 0,   -- YYYYMMDD; 0 until accepted
    deadline        INTEGER NOT NULL DEFAULT 0,   -- YYYYMMDD, last working day; 0 while not running
    paused_day      INTEGER NOT NULL DEFAULT 0,   -- YYYYMMDD when 补正 stopped the clock
    paused_days     INTEGER NOT NULL DEFAULT 0,   -- working days the clock stood still
    closed_at       INTEGER NOT NULL DEFAULT 0,   -- unix ms, completed or rejected
    closed_day      INTEGER NOT NULL DEFAULT 0,
    on_time         INTEGER NOT NULL DEFAULT 0,
    outcome         TEXT    NOT NULL DEFAULT '',  -- approved, denied, rejected
    reason          TEXT    NOT NULL DEFAULT '',  -- result note or rejection reason (shown to the applicant)
    rating          INTEGER NOT NULL DEFAULT 0,   -- 1 非常不满意 … 5 非常满意
    rating_comment  TEXT    NOT NULL DEFAULT '',
    rated_at        INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX cases_division ON cases (division, id);
CREATE INDEX cases_holder_open ON cases (is_open, holder, deadline);
CREATE INDEX cases_handler_open ON cases (handler_id, is_open, deadline);
CREATE INDEX cases_resident ON cases (resident_id);
CREATE INDEX cases_client ON cases (client_id, id);
CREATE INDEX cases_submitted ON cases (submitted_at);

-- Every step of a case, timestamped and noted (the audit log has them too).
CREATE TABLE case_steps (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL,
    at         INTEGER NOT NULL,                 -- unix ms
    action     TEXT    NOT NULL,
    from_state TEXT    NOT NULL DEFAULT '',
    to_state   TEXT    NOT NULL,
    holder     INTEGER NOT NULL,                 -- the holder after the step
    actor_id   INTEGER NOT NULL DEFAULT 0,
    actor      TEXT    NOT NULL DEFAULT '',
    note       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX case_steps_case ON case_steps (case_id, id);

-- Scans and photos attached to a case, stored under <data>/attachments.
CREATE TABLE case_attachments (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL,
    step_id      INTEGER NOT NULL DEFAULT 0,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    path         TEXT    NOT NULL,               -- relative to the attachments directory
    uploaded_at  INTEGER NOT NULL,
    uploaded_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX case_attachments_case ON case_attachments (case_id, id);

-- Daily case-number sequences per unit.
CREATE TABLE case_counters (
    division INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (division, day)
);

-- Open311 clients and their API keys (only a hash of the key is kept).
CREATE TABLE open311_clients (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    key_hash     TEXT    NOT NULL UNIQUE,
    key_prefix   TEXT    NOT NULL,
    division     INTEGER NOT NULL DEFAULT 0,     -- the subtree its requests may land in
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL DEFAULT '',
    revoked_at   INTEGER NOT NULL DEFAULT 0,
    last_used_at INTEGER NOT NULL DEFAULT 0
);

-- The dashboards' count of open overdue cases per subtree (internal/window/figures.go).
CREATE INDEX cases_open_division ON cases (is_open, division, deadline);

-- +goose Down
DROP TABLE open311_clients;
DROP TABLE case_counters;
DROP TABLE case_attachments;
DROP TABLE case_steps;
DROP TABLE cases;
DROP TABLE service_items;
