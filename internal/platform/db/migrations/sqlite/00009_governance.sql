-- +goose Up
-- Self-governance (internal/governance: NH-2, SX-1–SX-4, DG-2–DG-5, DG-7,
-- NT-7) and disclosure (internal/disclosure: DG-6, DG-8). Days are
-- YYYYMMDD integers, money is in fen (分), timestamps are Unix milliseconds.

-- Bodies: the party branch, the village committee, the council, the
-- management committee, the representatives' meeting, the supervision
-- committee, villager groups — one row per body and term.
CREATE TABLE gov_bodies (
    id          INTEGER PRIMARY KEY,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,             -- the village (or township) the body belongs to
    kind        TEXT    NOT NULL,             -- a body kind of the pack
    name        TEXT    NOT NULL,
    term_start  INTEGER  NOT NULL,             -- YYYYMMDD
    term_end    INTEGER  NOT NULL DEFAULT 0,   -- 0: open-ended
    party_members INTEGER NOT NULL DEFAULT 0,  -- party organisations: members counted for DG-2's form
    note        TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER  NOT NULL
);
CREATE INDEX gov_bodies_division ON gov_bodies (division, kind);

-- Members of a body, drawn from the registry (resident_id) with the name,
-- gender and residency copied at appointment; a member who left has until_day.
CREATE TABLE gov_members (
    id          INTEGER PRIMARY KEY,
    body_id     INTEGER  NOT NULL,
    resident_id INTEGER  NOT NULL,
    name        TEXT    NOT NULL,
    gender      TEXT    NOT NULL DEFAULT '',
    residency   TEXT    NOT NULL DEFAULT '',
    party       INTEGER  NOT NULL DEFAULT 0,
    post        TEXT    NOT NULL,             -- a post of the body kind
    since_day   INTEGER  NOT NULL,
    until_day   INTEGER  NOT NULL DEFAULT 0,   -- 0: still a member
    created_at  INTEGER  NOT NULL
);
CREATE INDEX gov_members_body ON gov_members (body_id, until_day);
CREATE INDEX gov_members_resident ON gov_members (resident_id);

-- Meetings of a body. members is the membership on the day (the quorum's
-- base), fixed when attendance is recorded.
CREATE TABLE gov_meetings (
    id          INTEGER PRIMARY KEY,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,
    body_id     INTEGER  NOT NULL,
    title       TEXT    NOT NULL,
    day         INTEGER  NOT NULL,
    start_time  TEXT    NOT NULL DEFAULT '',  -- HH:MM
    minutes_len INTEGER  NOT NULL DEFAULT 120, -- planned length in minutes
    place       TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL,             -- scheduled, held, cancelled
    public      INTEGER  NOT NULL DEFAULT 0,
    members     INTEGER  NOT NULL DEFAULT 0,
    present     INTEGER  NOT NULL DEFAULT 0,   -- members present in person or by proxy
    minutes     TEXT    NOT NULL DEFAULT '',  -- 会议纪要
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER  NOT NULL
);
CREATE INDEX gov_meetings_body ON gov_meetings (body_id, day);
CREATE INDEX gov_meetings_division ON gov_meetings (division, day);

-- Attendance: one row per member of the body on the day.
CREATE TABLE gov_attendance (
    meeting_id  INTEGER  NOT NULL,
    member_id   INTEGER  NOT NULL,
    status      TEXT    NOT NULL,             -- present, proxy, absent
    proxy_id    INTEGER  NOT NULL DEFAULT 0,   -- proxy: the present member who holds it
    PRIMARY KEY (meeting_id, member_id)
);

-- Agenda items; a vote's result is computed from the attendance and the
-- votes (or counted hands), never typed in.
CREATE TABLE gov_agenda (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER  NOT NULL,
    seq         INTEGER  NOT NULL,
    title       TEXT    NOT NULL,
    matter_id   INTEGER  NOT NULL DEFAULT 0,   -- the matter decided, if any
    stage       TEXT    NOT NULL DEFAULT '',  -- the matter's stage it decides
    document_id INTEGER  NOT NULL DEFAULT 0,   -- the document version adopted, if any
    result      TEXT    NOT NULL DEFAULT 'pending', -- pending, passed, failed, no_quorum
    votes_for   INTEGER  NOT NULL DEFAULT 0,
    votes_against INTEGER NOT NULL DEFAULT 0,
    votes_abstain INTEGER NOT NULL DEFAULT 0,
    counted     INTEGER  NOT NULL DEFAULT 0,   -- 1: hands counted, not a roll call
    resolution  TEXT    NOT NULL DEFAULT '',  -- 决议 text
    decided_day INTEGER  NOT NULL DEFAULT 0,
    UNIQUE (meeting_id, seq)
);
CREATE INDEX gov_agenda_matter ON gov_agenda (matter_id);

-- Roll-call votes: one per member and agenda item.
CREATE TABLE gov_votes (
    agenda_id   INTEGER  NOT NULL,
    member_id   INTEGER  NOT NULL,
    choice      TEXT    NOT NULL,             -- for, against, abstain
    by_proxy    INTEGER  NOT NULL DEFAULT 0,
    PRIMARY KEY (agenda_id, member_id)
);

-- Matters (议事事项) through the pack's procedure.
CREATE TABLE gov_matters (
    id          INTEGER PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,             -- the village
    procedure_key TEXT  NOT NULL,
    stage       TEXT    NOT NULL,             -- current stage key
    status      TEXT    NOT NULL,             -- open, rejected, done, withdrawn
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    proposer    TEXT    NOT NULL DEFAULT '',  -- residents or a body key
    proposer_name TEXT  NOT NULL DEFAULT '',
    signatures  INTEGER  NOT NULL DEFAULT 0,
    budget      INTEGER  NOT NULL DEFAULT 0,   -- fen
    spent       INTEGER  NOT NULL DEFAULT 0,   -- fen, the sum of progress reports
    progress    INTEGER  NOT NULL DEFAULT 0,   -- percent
    goal_year   INTEGER  NOT NULL DEFAULT 0,   -- an annual work goal of this year (SX-4)
    reason      TEXT    NOT NULL DEFAULT '',  -- why it was rejected or withdrawn (published)
    responsible TEXT    NOT NULL DEFAULT '',  -- who implements (assign step)
    due_day     INTEGER  NOT NULL DEFAULT 0,
    proposed_day INTEGER NOT NULL,
    resolved_day INTEGER NOT NULL DEFAULT 0,
    closed_day  INTEGER  NOT NULL DEFAULT 0,
    rating_n    INTEGER  NOT NULL DEFAULT 0,
    rating_sum  INTEGER  NOT NULL DEFAULT 0,
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER  NOT NULL
);
CREATE INDEX gov_matters_division ON gov_matters (division, id);
CREATE INDEX gov_matters_goal ON gov_matters (division, goal_year);

-- A matter's history: every stage passed or failed, every implementation
-- step (assign, implement, urge, supervise, complete) and rating.
CREATE TABLE gov_matter_steps (
    id          INTEGER PRIMARY KEY,
    matter_id   INTEGER  NOT NULL,
    stage       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    meeting_id  INTEGER  NOT NULL DEFAULT 0,
    agenda_id   INTEGER  NOT NULL DEFAULT 0,
    note        TEXT    NOT NULL DEFAULT '',
    percent     INTEGER  NOT NULL DEFAULT 0,
    spent       INTEGER  NOT NULL DEFAULT 0,   -- fen
    public      INTEGER  NOT NULL DEFAULT 1,
    day         INTEGER  NOT NULL,
    actor       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER  NOT NULL
);
CREATE INDEX gov_matter_steps_matter ON gov_matter_steps (matter_id, id);

-- Photos of implementation progress (sealed files, like incident photos).
CREATE TABLE gov_step_photos (
    id          INTEGER PRIMARY KEY,
    step_id     INTEGER  NOT NULL,
    path        TEXT    NOT NULL,
    mime        TEXT    NOT NULL,
    size        INTEGER  NOT NULL
);
CREATE INDEX gov_step_photos_step ON gov_step_photos (step_id);

-- Residents' ratings and comments (supervise step, year-end evaluation).
-- device is a keyed hash of the rater's browser cookie: one rating per
-- device, matter and year.
CREATE TABLE gov_ratings (
    id          INTEGER PRIMARY KEY,
    matter_id   INTEGER  NOT NULL,
    year        INTEGER  NOT NULL,
    score       INTEGER  NOT NULL DEFAULT 0,   -- 1–5, 0 for a comment only
    comment     TEXT    NOT NULL DEFAULT '',
    device      TEXT    NOT NULL DEFAULT '',
    day         INTEGER  NOT NULL,
    created_at  INTEGER  NOT NULL
);
CREATE INDEX gov_ratings_matter ON gov_ratings (matter_id, year);
CREATE UNIQUE INDEX gov_ratings_device ON gov_ratings (matter_id, year, device) WHERE device <> '' AND score > 0;

-- Elections of a body (village or residents' committee, representatives).
CREATE TABLE gov_elections (
    id          INTEGER PRIMARY KEY,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,
    body_kind   TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    day         INTEGER  NOT NULL,             -- election day
    seats       INTEGER  NOT NULL,
    state       TEXT    NOT NULL,             -- preparing, roll, counted
    voters      INTEGER  NOT NULL DEFAULT 0,
    voted       INTEGER  NOT NULL DEFAULT 0,   -- in person and by proxy
    ballots     INTEGER  NOT NULL DEFAULT 0,   -- ballots cast
    invalid     INTEGER  NOT NULL DEFAULT 0,   -- invalid ballots
    body_id     INTEGER  NOT NULL DEFAULT 0,   -- the body formed from the result
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER  NOT NULL
);
CREATE INDEX gov_elections_division ON gov_elections (division, day);

-- The voter roll, built from the registry on the election day's rules.
CREATE TABLE gov_voters (
    election_id INTEGER  NOT NULL,
    resident_id INTEGER  NOT NULL,
    name        TEXT    NOT NULL,
    gender      TEXT    NOT NULL DEFAULT '',
    birth       INTEGER  NOT NULL,
    residency   TEXT    NOT NULL,
    voted       TEXT    NOT NULL DEFAULT '',  -- '', person, proxy
    trustee_id  INTEGER  NOT NULL DEFAULT 0,   -- proxy: the voter who votes for this one
    PRIMARY KEY (election_id, resident_id)
);
CREATE INDEX gov_voters_trustee ON gov_voters (election_id, trustee_id);

CREATE TABLE gov_candidates (
    id          INTEGER PRIMARY KEY,
    election_id INTEGER  NOT NULL,
    resident_id INTEGER  NOT NULL,
    name        TEXT    NOT NULL,
    gender      TEXT    NOT NULL DEFAULT '',
    residency   TEXT    NOT NULL DEFAULT '',
    reserved    TEXT    NOT NULL DEFAULT '',  -- a reserved seat key, if standing for one
    votes       INTEGER  NOT NULL DEFAULT 0,
    elected     INTEGER  NOT NULL DEFAULT 0,
    UNIQUE (election_id, resident_id)
);

-- Versioned documents: charters, village rules, covenants, regulations.
CREATE TABLE gov_documents (
    id          INTEGER PRIMARY KEY,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX gov_documents_division ON gov_documents (division, kind);

-- Each version is adopted at a meeting (meeting_id and agenda_id are required).
CREATE TABLE gov_document_versions (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER  NOT NULL,
    version     INTEGER  NOT NULL,
    body        TEXT    NOT NULL,
    note        TEXT    NOT NULL DEFAULT '',
    meeting_id  INTEGER  NOT NULL,
    agenda_id   INTEGER  NOT NULL,
    adopted_day INTEGER  NOT NULL,
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT '',
    UNIQUE (document_id, version)
);

-- Finance (DG-6): entries of the administrative and economic accounts.
CREATE TABLE fin_entries (
    id          INTEGER PRIMARY KEY,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,
    account     TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,             -- income, expense
    day         INTEGER  NOT NULL,
    amount      INTEGER  NOT NULL,             -- fen, positive
    summary     TEXT    NOT NULL,
    voucher     TEXT    NOT NULL DEFAULT '',  -- 凭证号
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX fin_entries_division ON fin_entries (division, day);

-- Annual budget per account and category.
CREATE TABLE fin_budgets (
    division    INTEGER  NOT NULL,
    year        INTEGER  NOT NULL,
    account     TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    amount      INTEGER  NOT NULL,             -- fen
    updated_at  INTEGER  NOT NULL,
    PRIMARY KEY (division, year, account, category)
);

-- The register of collective assets, funds and resources (三资).
CREATE TABLE fin_assets (
    id          INTEGER PRIMARY KEY,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,
    kind        TEXT    NOT NULL,             -- an asset kind of the pack
    name        TEXT    NOT NULL,
    quantity    TEXT    NOT NULL DEFAULT '',  -- e.g. 1200 m², 35 亩
    value       INTEGER  NOT NULL DEFAULT 0,   -- fen
    acquired_day INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT '',  -- in use, leased (to whom, until when), idle
    note        TEXT    NOT NULL DEFAULT '',
    retired_day INTEGER  NOT NULL DEFAULT 0,
    created_at  INTEGER  NOT NULL,
    updated_at  INTEGER  NOT NULL
);
CREATE INDEX fin_assets_division ON fin_assets (division, kind);

-- Publications on the public portal: notices under a disclosure item,
-- finance statements for a period (body holds the statement as published).
CREATE TABLE pub_notices (
    id          INTEGER PRIMARY KEY,
    county      INTEGER  NOT NULL,
    division    INTEGER  NOT NULL,
    item        TEXT    NOT NULL,             -- a disclosure item of the pack
    period      TEXT    NOT NULL DEFAULT '',  -- the schedule period it covers (2026-11, 2026-Q4)
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL DEFAULT '',
    published_day INTEGER NOT NULL,
    withdrawn_day INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER  NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX pub_notices_division ON pub_notices (division, published_day);

-- Numbering of matters per village and year.
CREATE TABLE gov_counters (
    division    INTEGER  NOT NULL,
    year        INTEGER  NOT NULL,
    n           INTEGER  NOT NULL,
    PRIMARY KEY (division, year)
);

-- +goose Down
DROP TABLE gov_counters;
DROP TABLE pub_notices;
DROP TABLE fin_assets;
DROP TABLE fin_budgets;
DROP TABLE fin_entries;
DROP TABLE gov_document_versions;
DROP TABLE gov_documents;
DROP TABLE gov_candidates;
DROP TABLE gov_voters;
DROP TABLE gov_elections;
DROP TABLE gov_ratings;
DROP TABLE gov_step_photos;
DROP TABLE gov_matter_steps;
DROP TABLE gov_matters;
DROP TABLE gov_votes;
DROP TABLE gov_agenda;
DROP TABLE gov_attendance;
DROP TABLE gov_meetings;
DROP TABLE gov_members;
DROP TABLE gov_bodies;
