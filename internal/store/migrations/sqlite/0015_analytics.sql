-- Analytics (issue #8): incremental rollups of the event log. Every table
-- here is derived: `liveloop analytics rebuild` empties them and replays
-- the log. A day is the tenant's local day, as days since 1970-01-01.

-- Where the rollup has read the log up to. On PostgreSQL the log is read
-- in (tx, id) order below the oldest running transaction, so an event
-- whose transaction commits late is never skipped; on SQLite ids are
-- given in commit order and last_tx stays 0.
CREATE TABLE analytics_cursor (
    name    TEXT   PRIMARY KEY,
    last_tx INTEGER NOT NULL DEFAULT 0,
    last_id INTEGER NOT NULL DEFAULT 0
);

-- Additive counters by metric, day and group (0: not in a group).
CREATE TABLE an_daily (
    tenant_id INTEGER NOT NULL,
    metric    TEXT   NOT NULL,
    day       INTEGER NOT NULL,
    group_id  INTEGER NOT NULL DEFAULT 0,
    value     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, metric, day, group_id)
);

-- The same by local hour, for the send-time heatmap.
CREATE TABLE an_hourly (
    tenant_id INTEGER NOT NULL,
    group_id  INTEGER NOT NULL,
    metric    TEXT   NOT NULL,
    day       INTEGER NOT NULL,
    hour      INTEGER NOT NULL,
    value     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, group_id, metric, day, hour)
);

-- Each member's activity by day and group (0: outside groups): any
-- action of theirs, their group messages, and of those the ones that
-- answered another member or the brand.
CREATE TABLE an_member_day (
    tenant_id INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    group_id  INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    actions   INTEGER NOT NULL DEFAULT 0,
    messages  INTEGER NOT NULL DEFAULT 0,
    to_member INTEGER NOT NULL DEFAULT 0,
    to_brand  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day, group_id, member_id)
);
CREATE INDEX an_member_day_member ON an_member_day (tenant_id, member_id, day);

-- Each member's first join (the join cohort) and what brought them.
CREATE TABLE an_members (
    tenant_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    first_at  INTEGER NOT NULL,
    first_day INTEGER NOT NULL,
    group_id  INTEGER NOT NULL DEFAULT 0,
    source    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, member_id)
);
CREATE INDEX an_members_day ON an_members (tenant_id, first_day);

-- Counters by content item and day (clicks, replies, sends).
CREATE TABLE an_content (
    tenant_id  INTEGER NOT NULL,
    content_id INTEGER NOT NULL,
    metric     TEXT    NOT NULL,
    day        INTEGER NOT NULL,
    value      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, content_id, metric, day)
);
