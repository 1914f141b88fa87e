-- Platform accounts (a Telegram bot, a LINE channel) of a tenant, their
-- secrets encrypted at rest; reply tokens on outbound messages; groups and
-- identities a platform says are unreachable.

CREATE TABLE channel_accounts (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('telegram','line')),
    name        TEXT    NOT NULL,
    secrets     TEXT    NOT NULL,              -- secretbox-sealed JSON, bound to the tenant and kind
    hint        TEXT    NOT NULL DEFAULT '',   -- the token's last characters, for the console
    hook_key    TEXT    NOT NULL UNIQUE,       -- the unguessable part of the webhook URL
    persona_id  INTEGER NOT NULL DEFAULT 0,
    mode        TEXT    NOT NULL DEFAULT 'webhook' CHECK (mode IN ('webhook','polling')),
    poll_offset INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT '',
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX channel_accounts_tenant ON channel_accounts (tenant_id, id);

ALTER TABLE outbox ADD COLUMN reply_token TEXT NOT NULL DEFAULT '';
ALTER TABLE community_groups ADD COLUMN unreachable_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN unreachable_at INTEGER NOT NULL DEFAULT 0;

-- One group per platform chat (web groups have no external id).
CREATE UNIQUE INDEX community_groups_external ON community_groups (tenant_id, channel, external_id) WHERE external_id <> '';
