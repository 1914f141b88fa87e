-- The community routine: personas, rules, the rule runner's cursor and
-- cooldowns, moderation (actions, mutes, bans, hidden messages) and wishes.

CREATE TABLE personas (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    name        TEXT    NOT NULL,
    avatar_url  TEXT    NOT NULL DEFAULT '',
    role        TEXT    NOT NULL CHECK (role IN ('bot','assistant','expert','host')),
    created_at  INTEGER NOT NULL
);
CREATE INDEX personas_tenant ON personas (tenant_id, id);

CREATE TABLE bot_rules (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    group_id    INTEGER REFERENCES community_groups(id),
    kind        TEXT    NOT NULL,
    persona_id  INTEGER NOT NULL REFERENCES personas(id),
    enabled     BOOLEAN NOT NULL DEFAULT true,
    config      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX bot_rules_tenant ON bot_rules (tenant_id, group_id);

-- How far the rule runner has read the event log (installation-wide: the
-- log's ids are global).
CREATE TABLE bot_cursor (
    name          TEXT    PRIMARY KEY,
    last_event_id INTEGER NOT NULL
);

CREATE TABLE bot_cooldowns (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    group_id  INTEGER NOT NULL,
    key       TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, group_id, key)
);

CREATE TABLE moderation_actions (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    group_id   INTEGER,
    member_id  INTEGER NOT NULL REFERENCES members(id),
    action     TEXT    NOT NULL CHECK (action IN ('warn','mute','remove','hide','ban','unban','unmute')),
    reason     TEXT    NOT NULL DEFAULT '',
    rule_id    INTEGER,
    staff_id   INTEGER,
    event_id   INTEGER,
    until      INTEGER,
    at         INTEGER NOT NULL,
    undone_at  INTEGER,
    undone_by  INTEGER
);
CREATE INDEX moderation_actions_member ON moderation_actions (tenant_id, member_id, at);
CREATE INDEX moderation_actions_tenant ON moderation_actions (tenant_id, id);

ALTER TABLE group_members ADD COLUMN muted_until INTEGER;

CREATE TABLE bans (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    reason    TEXT    NOT NULL DEFAULT '',
    staff_id  INTEGER,
    at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);

CREATE TABLE hidden_messages (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    event_id  INTEGER NOT NULL,
    reason    TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);

CREATE TABLE wishes (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    group_id   INTEGER,
    text       TEXT    NOT NULL,
    norm       TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open','planned','fulfilled')),
    event_id   INTEGER,
    at         INTEGER NOT NULL
);
CREATE INDEX wishes_norm ON wishes (tenant_id, norm);
CREATE UNIQUE INDEX wishes_event ON wishes (tenant_id, event_id);

-- Messages a persona sends carry its identity to the channel.
ALTER TABLE outbox ADD COLUMN persona_id INTEGER;
ALTER TABLE outbox ADD COLUMN sender_avatar TEXT NOT NULL DEFAULT '';

-- Welcomes waiting out their debounce window: one greeting for several
-- joiners, as real groups do.
CREATE TABLE welcome_batches (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    outbox_id INTEGER NOT NULL,
    group_id  INTEGER NOT NULL,
    rule_id   INTEGER NOT NULL,
    names     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, outbox_id)
);
CREATE INDEX welcome_batches_rule ON welcome_batches (tenant_id, group_id, rule_id);
