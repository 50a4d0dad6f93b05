-- +goose Up
-- The official working-day calendar (internal/platform/calendar): only the
-- exceptions to "Monday to Friday are working days". One row per date that
-- is a statutory holiday (holiday, weekend days inside a holiday period
-- included) or a weekend day worked in exchange (workday, 调休上班). Shipped
-- years are seeded at start; administrators add each new year's notice.
CREATE TABLE calendar_days (
    day        BIGINT  PRIMARY KEY,          -- YYYYMMDD
    kind       TEXT    NOT NULL,             -- holiday, workday
    name       TEXT    NOT NULL DEFAULT '',  -- 春节, 国庆节调休上班, …
    updated_at BIGINT  NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT ''   -- username, or "system" for the shipped data
);

-- +goose Down
DROP TABLE calendar_days;
