-- Tracked links and attribution (issue #8, internal/track). Every link
-- liveloop sends is a row of links, reached at /t/<code>; each counted
-- click is a link_clicks row (and a link_clicked event); an order of a
-- member who clicked within the tenant's window is attributed to the last
-- and the first of those clicks. Ids of things a link belongs to are 0
-- when it belongs to none.

CREATE TABLE links (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    code       TEXT    NOT NULL UNIQUE, -- base62, from crypto/rand: the tenant is found by it
    url        TEXT    NOT NULL,        -- the target, http(s) only
    kind       TEXT    NOT NULL CHECK (kind IN ('alert','product','coupon','step','other')),
    group_id   INTEGER NOT NULL DEFAULT 0, -- posted in this group
    member_id  INTEGER NOT NULL DEFAULT 0, -- sent privately to this member
    live_id    INTEGER NOT NULL DEFAULT 0,
    content_id INTEGER NOT NULL DEFAULT 0,
    step_id    INTEGER NOT NULL DEFAULT 0,
    product_id INTEGER NOT NULL DEFAULT 0,
    batch_id   INTEGER NOT NULL DEFAULT 0, -- coupon batch
    ref        TEXT    NOT NULL DEFAULT '', -- the message's outbox key
    created_at INTEGER NOT NULL
);
-- A retried send reuses its links: one link per (tenant, message, target).
CREATE UNIQUE INDEX links_ref ON links (tenant_id, ref, url) WHERE ref <> '';
CREATE INDEX links_tenant ON links (tenant_id, id);

-- One row per counted click (a visitor's reloads within a minute are one).
-- visitor is a hash of a first-party cookie, never an address.
CREATE TABLE link_clicks (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    link_id   INTEGER NOT NULL REFERENCES links(id),
    member_id INTEGER,
    visitor   TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL
);
CREATE INDEX link_clicks_member ON link_clicks (tenant_id, member_id, at);
CREATE INDEX link_clicks_visitor ON link_clicks (tenant_id, visitor, at);
CREATE INDEX link_clicks_link ON link_clicks (tenant_id, link_id);

-- The tenant's attribution window (default 24 hours when no row).
CREATE TABLE track_settings (
    tenant_id      INTEGER PRIMARY KEY REFERENCES tenants(id),
    window_minutes INTEGER NOT NULL CHECK (window_minutes > 0),
    updated_at     INTEGER NOT NULL
);

-- An order of a member who clicked within the window before it: the last
-- click (last touch, whose link's live, content, step and group are
-- copied here) and the first. at is the order's paid time.
CREATE TABLE order_attribution (
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    order_id      INTEGER NOT NULL REFERENCES orders(id),
    member_id     INTEGER NOT NULL,
    last_link_id  INTEGER NOT NULL REFERENCES links(id),
    first_link_id INTEGER NOT NULL REFERENCES links(id),
    live_id       INTEGER NOT NULL DEFAULT 0,
    content_id    INTEGER NOT NULL DEFAULT 0,
    step_id       INTEGER NOT NULL DEFAULT 0,
    group_id      INTEGER NOT NULL DEFAULT 0,
    at            INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, order_id)
);
CREATE INDEX order_attribution_at ON order_attribution (tenant_id, at);
