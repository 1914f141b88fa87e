-- Commerce (#7): the brand's products, the orders its shop reports
-- (imported from CSV, pushed through the shop API, or seen in a live) with
-- their lines and refunds, each member's purchase totals, CSV import runs,
-- and member tiers (普通/银卡/金卡) with their history.
-- Money is integer minor units (CNY fen); times are Unix milliseconds.

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    sku         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
    category    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, sku)
);

-- An order as the shop knows it; external_id is the shop's order id, so a
-- repeated import or push stores it once. member_id stays NULL until a
-- member matches (by channel identity, phone, email or coupon code).
-- refunded_minor never exceeds the amount: spend is amount − refunded.
CREATE TABLE orders (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
    external_id    TEXT    NOT NULL,
    source         TEXT    NOT NULL CHECK (source IN ('csv','api','live')),
    member_id      INTEGER,
    matched_by     TEXT    NOT NULL DEFAULT '' CHECK (matched_by IN ('','phone','email','channel','coupon')),
    phone          TEXT    NOT NULL DEFAULT '', -- digits only, without the +86 of a CN mobile
    email          TEXT    NOT NULL DEFAULT '', -- lower case
    channel        TEXT    NOT NULL DEFAULT '',
    channel_user   TEXT    NOT NULL DEFAULT '',
    coupon         TEXT    NOT NULL DEFAULT '',
    amount_minor   INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency       TEXT    NOT NULL DEFAULT 'CNY',
    paid_at        INTEGER NOT NULL,
    refunded_minor INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    created_at     INTEGER NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX orders_member ON orders (tenant_id, member_id, paid_at);
CREATE INDEX orders_paid ON orders (tenant_id, paid_at);
CREATE INDEX orders_unmatched ON orders (tenant_id, id) WHERE member_id IS NULL;

CREATE TABLE order_lines (
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id),
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    line_no          INTEGER NOT NULL CHECK (line_no > 0),
    sku              TEXT    NOT NULL DEFAULT '',
    product_id       INTEGER, -- NULL: a SKU the catalogue does not know (or none)
    name             TEXT    NOT NULL DEFAULT '',
    qty              INTEGER NOT NULL CHECK (qty > 0),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_lines_product ON order_lines (tenant_id, product_id);

CREATE TABLE order_refunds (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    external_id  TEXT    NOT NULL, -- the shop's refund id, once per order
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    refunded_at  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (order_id, external_id)
);
CREATE INDEX order_refunds_tenant ON order_refunds (tenant_id, order_id);

-- Each member's purchase totals, kept in the transaction of every order,
-- refund and match (no member's page sums their orders).
CREATE TABLE member_commerce (
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    member_id     INTEGER NOT NULL,
    spend_minor   INTEGER NOT NULL DEFAULT 0, -- net of refunds
    orders        INTEGER NOT NULL DEFAULT 0,
    first_paid_at INTEGER NOT NULL DEFAULT 0,
    last_paid_at  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, member_id)
);

-- A CSV import run, by the file's SHA-256: rows_done is the last row of
-- the last committed batch, so an interrupted import resumes after it;
-- the counters are those of the rows up to it.
CREATE TABLE order_imports (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    sha256      TEXT    NOT NULL,
    filename    TEXT    NOT NULL DEFAULT '',
    mapping     TEXT    NOT NULL DEFAULT '',
    encoding    TEXT    NOT NULL DEFAULT '',
    rows_done   INTEGER NOT NULL DEFAULT 0,
    imported    INTEGER NOT NULL DEFAULT 0,
    matched     INTEGER NOT NULL DEFAULT 0,
    unmatched   INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, sha256)
);

-- Tiers: rank 0 is the base tier (threshold 0); a member holds the highest
-- rank whose threshold they reach (rolling net spend in window_days, or
-- points earned).
CREATE TABLE tiers (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id),
    name             TEXT    NOT NULL,
    rank             INTEGER NOT NULL CHECK (rank >= 0),
    basis            TEXT    NOT NULL CHECK (basis IN ('spend','points')),
    threshold        INTEGER NOT NULL CHECK (threshold >= 0),
    window_days      INTEGER NOT NULL DEFAULT 365 CHECK (window_days >= 0),
    discount_pct     INTEGER NOT NULL DEFAULT 0 CHECK (discount_pct >= 0 AND discount_pct < 100),
    coupon_batch_ids TEXT    NOT NULL DEFAULT '[]',
    vip_group_ids    TEXT    NOT NULL DEFAULT '[]',
    presale_days     INTEGER NOT NULL DEFAULT 0 CHECK (presale_days >= 0),
    agent_staff_id   INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (tenant_id, rank)
);

CREATE TABLE member_tiers (
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    member_id    INTEGER NOT NULL,
    tier_id      INTEGER NOT NULL REFERENCES tiers(id),
    since        INTEGER NOT NULL,
    evaluated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);
CREATE INDEX member_tiers_tier ON member_tiers (tenant_id, tier_id);

CREATE TABLE tier_changes (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    member_id    INTEGER NOT NULL,
    from_tier_id INTEGER NOT NULL DEFAULT 0,
    to_tier_id   INTEGER NOT NULL,
    from_rank    INTEGER NOT NULL DEFAULT 0,
    to_rank      INTEGER NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '', -- order:<id>, refund:<id>, nightly, rematch
    notified     BOOLEAN NOT NULL DEFAULT false,
    at           INTEGER NOT NULL
);
CREATE INDEX tier_changes_member ON tier_changes (tenant_id, member_id, id);

-- The nightly pass (rematch, tier evaluation) runs once a tenant day.
CREATE TABLE commerce_nightly (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
    last_day  TEXT    NOT NULL
);

-- Member matching looks people up by phone (its digits) and email.
CREATE INDEX members_phone_digits ON members (tenant_id, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '+', ''));
CREATE INDEX members_email ON members (tenant_id, email);
