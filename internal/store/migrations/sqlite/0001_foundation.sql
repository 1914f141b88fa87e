-- Foundation: tenants, staff, members, groups, the event log and the outbox.
-- Times are Unix milliseconds (UTC). Every row carries tenant_id.

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    timezone    TEXT    NOT NULL DEFAULT 'Asia/Shanghai',
    locale      TEXT    NOT NULL DEFAULT 'zh-CN',
    created_at  INTEGER NOT NULL
);

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'operator' CHECK (role IN ('owner','operator','host','analyst')),
    password_hash TEXT    NOT NULL,
    locale        TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, email)
);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    staff_id     INTEGER NOT NULL REFERENCES staff(id),
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    display_name  TEXT    NOT NULL,
    phone         TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    locale        TEXT    NOT NULL DEFAULT '',
    opted_out     BOOLEAN NOT NULL DEFAULT false,
    merged_into   INTEGER REFERENCES members(id),
    created_at    INTEGER NOT NULL
);
CREATE INDEX members_tenant ON members (tenant_id, id);

CREATE TABLE identities (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    channel      TEXT    NOT NULL,
    external_id  TEXT    NOT NULL,
    display_name TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    UNIQUE (tenant_id, channel, external_id)
);
CREATE INDEX identities_member ON identities (tenant_id, member_id);

CREATE TABLE member_tags (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    tag        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, member_id, tag)
);

CREATE TABLE community_groups (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    channel     TEXT    NOT NULL,
    external_id TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('vertical','booster','referral','vip')),
    audience    TEXT    NOT NULL DEFAULT '',
    promise     TEXT    NOT NULL DEFAULT '',
    tone        TEXT    NOT NULL DEFAULT '',
    rules       TEXT    NOT NULL DEFAULT '',
    capacity    INTEGER NOT NULL DEFAULT 500,
    created_at  INTEGER NOT NULL,
    archived_at INTEGER
);
CREATE INDEX community_groups_tenant ON community_groups (tenant_id, id);

CREATE TABLE join_codes (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    group_id    INTEGER NOT NULL REFERENCES community_groups(id),
    code        TEXT    NOT NULL UNIQUE,
    source      TEXT    NOT NULL DEFAULT '',
    expires_at  INTEGER,
    disabled_at INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX join_codes_group ON join_codes (tenant_id, group_id);

CREATE TABLE group_members (
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    group_id     INTEGER NOT NULL REFERENCES community_groups(id),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    joined_at    INTEGER NOT NULL,
    left_at      INTEGER,
    removed_at   INTEGER,
    join_code_id INTEGER REFERENCES join_codes(id),
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

-- The event log: append-only. (tenant_id, source, source_id) makes a
-- duplicate delivery of the same thing one row.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    source_id  TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    member_id  INTEGER,
    group_id   INTEGER,
    staff_id   INTEGER,
    data       TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (tenant_id, source, source_id)
);
CREATE INDEX events_group  ON events (tenant_id, group_id, id);
CREATE INDEX events_member ON events (tenant_id, member_id, id);
CREATE INDEX events_type_at ON events (tenant_id, type, at);

-- The outbox: every outbound message, durable before it is sent.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    channel         TEXT    NOT NULL,
    idem_key        TEXT    NOT NULL,
    group_id        INTEGER,
    member_id       INTEGER,
    staff_id        INTEGER,
    sender_name     TEXT    NOT NULL DEFAULT '',
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sending','sent','failed','unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    external_id     TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (tenant_id, idem_key)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Installation-wide settings (not per tenant): generated secrets such as
-- the member-cookie key, so every node of one installation shares them.
CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
