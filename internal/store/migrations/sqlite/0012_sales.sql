-- In-group sales formats (#7): flash sales (秒杀), chain orders / group
-- buys (接龙) and presales with early access. Names and prices are stored
-- here (an optional sku links to the shop's product by text), so these
-- tables need no other feature's.

-- A flash sale: stock units at price, claimed atomically by the
-- conditional increment of claimed (… WHERE claimed < stock), each claim
-- numbered by it; per_member caps a member's claims (the claims' key
-- (sale, member, n) holds it in the database).
CREATE TABLE flash_sales (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
    name           TEXT    NOT NULL,
    sku            TEXT    NOT NULL DEFAULT '',
    price_minor    INTEGER NOT NULL CHECK (price_minor >= 0),
    original_minor INTEGER NOT NULL DEFAULT 0 CHECK (original_minor >= 0),
    stock          INTEGER NOT NULL CHECK (stock > 0),
    claimed        INTEGER NOT NULL DEFAULT 0 CHECK (claimed >= 0 AND claimed <= stock),
    per_member     INTEGER NOT NULL DEFAULT 1 CHECK (per_member >= 1),
    keyword        TEXT    NOT NULL DEFAULT '',
    checkout_url   TEXT    NOT NULL DEFAULT '',
    countdown_min  INTEGER NOT NULL DEFAULT 0 CHECK (countdown_min >= 0),
    starts_at      INTEGER NOT NULL,
    ends_at        INTEGER NOT NULL DEFAULT 0, -- 0: until sold out
    persona_id     INTEGER NOT NULL DEFAULT 0,
    staff_id       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    countdown_at   INTEGER NOT NULL DEFAULT 0, -- the countdown announcement was queued
    opened_at      INTEGER NOT NULL DEFAULT 0, -- the "it's on" announcement was queued
    closed_at      INTEGER NOT NULL DEFAULT 0  -- the result was posted
);
CREATE INDEX flash_sales_tenant ON flash_sales (tenant_id, id);
CREATE INDEX flash_sales_open ON flash_sales (closed_at, starts_at);

CREATE TABLE flash_sale_groups (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    sale_id   INTEGER NOT NULL REFERENCES flash_sales(id),
    group_id  INTEGER NOT NULL REFERENCES community_groups(id),
    PRIMARY KEY (sale_id, group_id)
);
CREATE INDEX flash_sale_groups_group ON flash_sale_groups (tenant_id, group_id);

CREATE TABLE flash_claims (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    sale_id   INTEGER NOT NULL REFERENCES flash_sales(id),
    seq       INTEGER NOT NULL CHECK (seq > 0),
    member_id INTEGER NOT NULL REFERENCES members(id),
    n         INTEGER NOT NULL CHECK (n > 0), -- the member's n-th claim of the sale
    group_id  INTEGER NOT NULL DEFAULT 0,
    via       TEXT    NOT NULL DEFAULT '',    -- web, keyword, button
    at        INTEGER NOT NULL,
    PRIMARY KEY (sale_id, seq),
    UNIQUE (sale_id, member_id, n)
);
CREATE INDEX flash_claims_member ON flash_claims (tenant_id, member_id);

-- A chain order (接龙): members add numbered lines ("+1", "+2 红色");
-- next_seq hands out line numbers under the chain's row lock, so racing
-- replies get 1..n with no gap or repeat; rev counts changes (lines and
-- cancels) and listed_rev the last one posted as the list.
CREATE TABLE chains (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    group_id    INTEGER NOT NULL REFERENCES community_groups(id),
    title       TEXT    NOT NULL,
    options     TEXT    NOT NULL, -- JSON [{"label":…,"price_minor":…}]
    tiers       TEXT    NOT NULL DEFAULT '[]', -- JSON [{"min":10,"price_minor":8900}], by participants
    max_qty     INTEGER NOT NULL DEFAULT 10 CHECK (max_qty >= 1),
    target      INTEGER NOT NULL DEFAULT 0 CHECK (target >= 0), -- units; 0: none
    closes_at   INTEGER NOT NULL,
    persona_id  INTEGER NOT NULL DEFAULT 0,
    staff_id    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    next_seq    INTEGER NOT NULL DEFAULT 0,
    rev         INTEGER NOT NULL DEFAULT 0,
    listed_rev  INTEGER NOT NULL DEFAULT 0,
    listed_at   INTEGER NOT NULL DEFAULT 0,
    closed_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chains_tenant ON chains (tenant_id, group_id, id);
CREATE INDEX chains_open ON chains (closed_at, closes_at);

CREATE TABLE chain_lines (
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    chain_id     INTEGER NOT NULL REFERENCES chains(id),
    seq          INTEGER NOT NULL CHECK (seq > 0),
    member_id    INTEGER NOT NULL REFERENCES members(id),
    option_no    INTEGER NOT NULL CHECK (option_no > 0),
    qty          INTEGER NOT NULL CHECK (qty > 0),
    src          TEXT    NOT NULL, -- the reply's id (message event, web form), so a repeat adds nothing
    at           INTEGER NOT NULL,
    cancelled_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chain_id, seq),
    UNIQUE (chain_id, src)
);
CREATE INDEX chain_lines_member ON chain_lines (chain_id, member_id, seq);

-- A presale: the audience (minimum tier rank and/or a campaign segment)
-- may reserve early_days before opens_at, everyone from opens_at. One
-- reservation per member; stock 0 is unlimited.
CREATE TABLE presales (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    name          TEXT    NOT NULL,
    sku           TEXT    NOT NULL DEFAULT '',
    price_minor   INTEGER NOT NULL CHECK (price_minor >= 0),
    stock         INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    reserved      INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND (stock = 0 OR reserved <= stock)),
    opens_at      INTEGER NOT NULL,
    early_days    INTEGER NOT NULL DEFAULT 0 CHECK (early_days >= 0),
    min_tier_rank INTEGER NOT NULL DEFAULT 0 CHECK (min_tier_rank >= 0),
    segment       TEXT    NOT NULL DEFAULT '{}', -- JSON campaign.Segment
    staff_id      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    early_told_at INTEGER NOT NULL DEFAULT 0 -- the early audience was told
);
CREATE INDEX presales_tenant ON presales (tenant_id, opens_at);

CREATE TABLE presale_reservations (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    presale_id INTEGER NOT NULL REFERENCES presales(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    early      INTEGER NOT NULL DEFAULT 0, -- reserved before the public opening
    at         INTEGER NOT NULL,
    PRIMARY KEY (presale_id, member_id)
);
CREATE INDEX presale_reservations_member ON presale_reservations (tenant_id, member_id);
