-- +goose Up
-- Background jobs (internal/platform/jobs): long imports and exports that
-- survive a restart. One row per job; workers claim a queued row with a
-- conditional UPDATE, so several instances may share one database.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    status           TEXT    NOT NULL,             -- queued, running, done, failed, canceled
    division         INTEGER NOT NULL DEFAULT 0,   -- 15-digit scope code, 0 = whole deployment
    user_id          INTEGER NOT NULL DEFAULT 0,   -- 0 for the CLI / system
    username         TEXT    NOT NULL DEFAULT '',
    client           TEXT    NOT NULL DEFAULT '',  -- submitter's address, for the audit actor
    principal        TEXT    NOT NULL DEFAULT '',  -- JSON snapshot of the submitter's role assignments
    params           TEXT    NOT NULL DEFAULT '',  -- JSON
    input_name       TEXT    NOT NULL DEFAULT '',  -- input file inside the job's directory
    progress_done    INTEGER NOT NULL DEFAULT 0,
    progress_total   INTEGER NOT NULL DEFAULT 0,   -- 0 = unknown
    message          TEXT    NOT NULL DEFAULT '',  -- last progress message (i18n key or text)
    error_text       TEXT    NOT NULL DEFAULT '',  -- why it failed (i18n key or text)
    result           TEXT    NOT NULL DEFAULT '',  -- JSON
    checkpoint       TEXT    NOT NULL DEFAULT '',  -- JSON, written with the work it records
    files            TEXT    NOT NULL DEFAULT '',  -- JSON array of downloadable artifacts
    attempts         INTEGER NOT NULL DEFAULT 0,   -- times claimed since submit or resume
    claim            TEXT    NOT NULL DEFAULT '',  -- token of the current run (fences stale runners)
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER NOT NULL DEFAULT 0,
    finished_at      INTEGER NOT NULL DEFAULT 0,
    heartbeat_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_status ON jobs (status, id);
CREATE INDEX jobs_user ON jobs (user_id, id);

-- +goose Down
DROP TABLE jobs;
