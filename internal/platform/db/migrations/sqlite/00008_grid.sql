-- +goose Up
-- Grid governance (internal/grid) and mediation (internal/grid/mediation):
-- DG-9, DG-11, DG-16, DG-17, SX-9, XS-12. Grids themselves are divisions
-- (level 6); households name their grid in the registry.

-- Positions of incidents and patrol visits are checked against the nearest
-- household (registry.NearestVillage), and the map draws households: their
-- points need an index.
CREATE INDEX households_point ON households (lat, lon, village) WHERE lat IS NOT NULL;

-- A grid's outline (GeoJSON Polygon or MultiPolygon, WGS-84), optional.
CREATE TABLE grid_outlines (
    grid       INTEGER  PRIMARY KEY,
    geojson    TEXT    NOT NULL,
    updated_at INTEGER  NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT ''
);

-- Street, building and floor chiefs (巷长、栋长、楼长, DG-11), residents
-- chosen by their neighbours.
CREATE TABLE grid_chiefs (
    id          INTEGER PRIMARY KEY,
    grid        INTEGER  NOT NULL,
    kind        TEXT    NOT NULL,             -- a chief kind of the pack
    resident_id INTEGER  NOT NULL,
    area        TEXT    NOT NULL DEFAULT '',  -- which lane, building or floor
    since       INTEGER  NOT NULL,             -- YYYYMMDD
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX grid_chiefs_grid ON grid_chiefs (grid);
CREATE UNIQUE INDEX grid_chiefs_unique ON grid_chiefs (grid, kind, resident_id, area);

-- Party members linked to the households they keep in touch with (党员联系户, DG-9).
CREATE TABLE party_links (
    id           INTEGER PRIMARY KEY,
    division     INTEGER  NOT NULL,            -- the household's grid, else village
    resident_id  INTEGER  NOT NULL,            -- the party member
    household_id INTEGER  NOT NULL,
    since        INTEGER  NOT NULL,
    created_at   INTEGER  NOT NULL,
    created_by   TEXT    NOT NULL DEFAULT '',
    UNIQUE (resident_id, household_id)
);
CREATE INDEX party_links_division ON party_links (division);
CREATE INDEX party_links_household ON party_links (household_id);

-- Incidents (事件/部件问题), GB/T 30428's cycle: report, register, dispatch,
-- handle, verify, close, evaluate.
CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY,
    number         TEXT    NOT NULL UNIQUE,
    county         INTEGER  NOT NULL,             -- distribution key
    division       INTEGER  NOT NULL,             -- where it happened: grid, else village (figures count here)
    holder         INTEGER  NOT NULL,             -- unit that holds it now
    holder_level   TEXT    NOT NULL,             -- village, township, department
    department     TEXT    NOT NULL DEFAULT '',  -- the office or department dispatched to
    handler_id     INTEGER  NOT NULL DEFAULT 0,
    handler_name   TEXT    NOT NULL DEFAULT '',
    category       TEXT    NOT NULL,
    category_name  TEXT    NOT NULL,             -- zh-CN name at the report
    grp            TEXT    NOT NULL,
    kind           TEXT    NOT NULL,             -- component or event
    time_limit     INTEGER  NOT NULL DEFAULT 0,   -- working days, at dispatch
    state          TEXT    NOT NULL,
    resume_state   TEXT    NOT NULL DEFAULT '',  -- state to return to after a suspension
    is_open        INTEGER  NOT NULL,
    source         TEXT    NOT NULL,             -- worker, staff, resident (Open311)
    reporter_id    INTEGER  NOT NULL DEFAULT 0,   -- the reporting account
    reporter_name  TEXT    NOT NULL DEFAULT '',
    reporter_phone TEXT    NOT NULL DEFAULT '',  -- SM4 ciphertext (residents' reports)
    phone_masked   TEXT    NOT NULL DEFAULT '',
    client_id      INTEGER  NOT NULL DEFAULT 0,   -- Open311 client
    token          TEXT    NOT NULL DEFAULT '',
    client_key     TEXT    NOT NULL DEFAULT '',  -- the reporter's idempotency key (offline drafts)
    description    TEXT    NOT NULL DEFAULT '',
    address        TEXT    NOT NULL DEFAULT '',
    lat            REAL,
    lon            REAL,
    household_id   INTEGER  NOT NULL DEFAULT 0,
    resident_id    INTEGER  NOT NULL DEFAULT 0,
    duplicate_of   INTEGER  NOT NULL DEFAULT 0,
    reported_at    INTEGER  NOT NULL,             -- unix ms
    reported_day   INTEGER  NOT NULL,
    dispatched_day INTEGER  NOT NULL DEFAULT 0,
    deadline       INTEGER  NOT NULL DEFAULT 0,   -- YYYYMMDD; 0 while the clock does not run
    paused_day     INTEGER  NOT NULL DEFAULT 0,
    paused_days    INTEGER  NOT NULL DEFAULT 0,
    extended_days  INTEGER  NOT NULL DEFAULT 0,
    escalations    INTEGER  NOT NULL DEFAULT 0,
    handled_day    INTEGER  NOT NULL DEFAULT 0,
    on_time        INTEGER  NOT NULL DEFAULT 0,
    closed_at      INTEGER  NOT NULL DEFAULT 0,
    closed_day     INTEGER  NOT NULL DEFAULT 0,
    closed_level   TEXT    NOT NULL DEFAULT '',  -- level that settled it (village: stayed in the village)
    reason         TEXT    NOT NULL DEFAULT '',  -- rejection reason or result
    rating         INTEGER  NOT NULL DEFAULT 0,
    rating_comment TEXT    NOT NULL DEFAULT '',
    updated_at     INTEGER  NOT NULL
);
CREATE INDEX incidents_division ON incidents (division, id);
-- the desk's "held" view and its count: the open incidents the unit holds, in
-- its subtree (division after holder, so that SQLite, which has no statistics,
-- prefers it to incidents_open for this view: 290 rows instead of 2,500 read
-- for a township of 100,000 incidents, scripts/bench-grid-incidents.sh)
CREATE INDEX incidents_holder_open ON incidents (is_open, holder, division, deadline);
-- the desk's open views and their counts: a subtree's open incidents by state and deadline
CREATE INDEX incidents_open ON incidents (is_open, division, state, deadline);
CREATE INDEX incidents_reporter ON incidents (reporter_id, id);
CREATE INDEX incidents_category_open ON incidents (category, is_open, division);
CREATE INDEX incidents_token ON incidents (token) WHERE token <> '';
CREATE UNIQUE INDEX incidents_client_key ON incidents (reporter_id, client_key) WHERE client_key <> '';

CREATE TABLE incident_steps (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER  NOT NULL,
    at          INTEGER  NOT NULL,
    action      TEXT    NOT NULL,
    from_state  TEXT    NOT NULL DEFAULT '',
    to_state    TEXT    NOT NULL,
    holder      INTEGER  NOT NULL,
    actor_id    INTEGER  NOT NULL DEFAULT 0,
    actor       TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX incident_steps_incident ON incident_steps (incident_id, id);

-- Photos of a report or of the work done, sealed under <data>/attachments.
CREATE TABLE incident_photos (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER  NOT NULL,
    step_id      INTEGER  NOT NULL DEFAULT 0,
    content_type TEXT    NOT NULL,
    size         INTEGER  NOT NULL,
    sha256       TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    uploaded_at  INTEGER  NOT NULL,
    uploaded_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX incident_photos_incident ON incident_photos (incident_id, id);

-- Resumable uploads from phones on a poor connection: the client appends
-- chunks at the offset the server reports, then names the upload in a report.
CREATE TABLE uploads (
    id         TEXT    PRIMARY KEY,              -- random, 26 characters
    user_id    INTEGER  NOT NULL,
    size       INTEGER  NOT NULL,                 -- announced size
    received   INTEGER  NOT NULL DEFAULT 0,
    created_at INTEGER  NOT NULL,
    used       INTEGER  NOT NULL DEFAULT 0        -- 1 once attached
);
CREATE INDEX uploads_created ON uploads (created_at);

-- Daily sequences of incident and dispute numbers per unit.
CREATE TABLE grid_counters (
    kind     TEXT    NOT NULL,                   -- incident, dispute
    division INTEGER  NOT NULL,
    day      INTEGER  NOT NULL,
    n        INTEGER  NOT NULL,
    PRIMARY KEY (kind, division, day)
);

-- A grid worker's visits (走访): which household, what was found.
CREATE TABLE patrols (
    id           INTEGER PRIMARY KEY,
    county       INTEGER  NOT NULL,
    division     INTEGER  NOT NULL,               -- the household's grid, else village
    household_id INTEGER  NOT NULL,
    worker_id    INTEGER  NOT NULL,
    worker_name  TEXT    NOT NULL DEFAULT '',
    day          INTEGER  NOT NULL,               -- YYYYMMDD
    at           INTEGER  NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    problem      INTEGER  NOT NULL DEFAULT 0,     -- 1: a problem was found
    incident_id  INTEGER  NOT NULL DEFAULT 0,     -- the incident reported from it
    lat          REAL,
    lon          REAL
);
CREATE INDEX patrols_division ON patrols (division, day);
CREATE INDEX patrols_household ON patrols (household_id, day);
CREATE INDEX patrols_worker ON patrols (worker_id, day);

-- Follow-ups of residents in special groups (DG-17); notes sealed (SM4).
CREATE TABLE followups (
    id          INTEGER PRIMARY KEY,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,                -- the resident's unit at the time
    resident_id INTEGER  NOT NULL,
    tag         TEXT    NOT NULL,                -- the restricted tag followed up
    kind        TEXT    NOT NULL,                -- visit, phone, talk
    day         INTEGER  NOT NULL,
    at          INTEGER  NOT NULL,
    worker_id   INTEGER  NOT NULL,
    worker_name TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',     -- SM4 ciphertext
    next_day    INTEGER  NOT NULL DEFAULT 0       -- next follow-up due
);
CREATE INDEX followups_resident ON followups (resident_id, day);
CREATE INDEX followups_division ON followups (division, day);

-- Mediation (人民调解, DG-16, SX-9).
CREATE TABLE disputes (
    id          INTEGER PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,                -- the village or township mediating
    type        TEXT    NOT NULL,                -- a dispute type of the pack
    summary     TEXT    NOT NULL,
    state       TEXT    NOT NULL,                -- open, settled, failed, referred, withdrawn
    is_open     INTEGER  NOT NULL,
    mediators   TEXT    NOT NULL DEFAULT '',     -- names, separated by 、
    incident_id INTEGER  NOT NULL DEFAULT 0,      -- the incident it came from
    opened_day  INTEGER  NOT NULL,
    closed_day  INTEGER  NOT NULL DEFAULT 0,
    outcome     TEXT    NOT NULL DEFAULT '',     -- what was agreed, or why it failed
    agreement   TEXT    NOT NULL DEFAULT '',     -- terms of the settlement agreement
    performance TEXT    NOT NULL DEFAULT '',     -- how and when the terms are carried out
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER  NOT NULL
);
CREATE INDEX disputes_division ON disputes (division, id);
CREATE INDEX disputes_open ON disputes (is_open, division);

CREATE TABLE dispute_parties (
    id           INTEGER PRIMARY KEY,
    dispute_id   INTEGER  NOT NULL,
    side         TEXT    NOT NULL,               -- applicant, respondent, other
    resident_id  INTEGER  NOT NULL DEFAULT 0,     -- 0 for an outsider
    name         TEXT    NOT NULL,
    gender       TEXT    NOT NULL DEFAULT '',
    id_number    TEXT    NOT NULL DEFAULT '',    -- SM4 ciphertext (outsiders)
    id_masked    TEXT    NOT NULL DEFAULT '',
    phone        TEXT    NOT NULL DEFAULT '',    -- SM4 ciphertext
    phone_masked TEXT    NOT NULL DEFAULT '',
    address      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX dispute_parties_dispute ON dispute_parties (dispute_id);

CREATE TABLE dispute_sessions (
    id         INTEGER PRIMARY KEY,
    dispute_id INTEGER  NOT NULL,
    day        INTEGER  NOT NULL,
    place      TEXT    NOT NULL DEFAULT '',
    mediators  TEXT    NOT NULL DEFAULT '',
    note       TEXT    NOT NULL DEFAULT '',
    at         INTEGER  NOT NULL,
    actor      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX dispute_sessions_dispute ON dispute_sessions (dispute_id, day);

CREATE TABLE dispute_visits (
    id         INTEGER PRIMARY KEY,
    dispute_id INTEGER  NOT NULL,
    day        INTEGER  NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    holding    INTEGER  NOT NULL DEFAULT 1,       -- 1: the agreement is being kept
    at         INTEGER  NOT NULL,
    actor      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX dispute_visits_dispute ON dispute_visits (dispute_id, day);

-- +goose Down
DROP TABLE dispute_visits;
DROP TABLE dispute_sessions;
DROP TABLE dispute_parties;
DROP TABLE disputes;
DROP TABLE followups;
DROP TABLE patrols;
DROP TABLE grid_counters;
DROP TABLE uploads;
DROP TABLE incident_photos;
DROP TABLE incident_steps;
DROP TABLE incidents;
DROP TABLE party_links;
DROP TABLE grid_chiefs;
DROP TABLE grid_outlines;
DROP INDEX households_point;
