-- Community coupons (#7): batches with their audience and claim window,
-- their codes (generated with the batch, handed out by claims and grants,
-- redeemed once by the shop), the per-member holder rows that keep a
-- member within the batch's limit, and the perks (member day, birthday
-- gift) with the members' birthdays and the free shipping threshold.
--
-- Stock is the codes themselves: a batch of N has N rows, a claim takes a
-- free one (member_id = 0) — on PostgreSQL with FOR UPDATE SKIP LOCKED, so
-- racing claims take different rows instead of queueing on one counter —
-- and there is no (N+1)-th row to take. The per-member limit is a
-- conditional upsert of the holder row (… WHERE held < per_member), the
-- grant idempotency the unique (batch, ref).

CREATE TABLE coupon_batches (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    name            TEXT    NOT NULL,
    prefix          TEXT    NOT NULL DEFAULT '',
    kind            TEXT    NOT NULL CHECK (kind IN ('amount','percent','free_shipping')),
    amount_minor    INTEGER NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
    percent         INTEGER NOT NULL DEFAULT 0 CHECK (percent >= 0 AND percent <= 99),
    min_spend_minor INTEGER NOT NULL DEFAULT 0 CHECK (min_spend_minor >= 0),
    valid_from      INTEGER NOT NULL DEFAULT 0,
    valid_until     INTEGER NOT NULL DEFAULT 0,
    valid_days      INTEGER NOT NULL DEFAULT 0 CHECK (valid_days >= 0), -- > 0: valid N days from the claim
    stock           INTEGER NOT NULL CHECK (stock > 0),
    per_member      INTEGER NOT NULL CHECK (per_member >= 1),
    audience        TEXT    NOT NULL DEFAULT '{}', -- JSON coupon.Audience
    opens_at        INTEGER NOT NULL DEFAULT 0,
    closes_at       INTEGER NOT NULL DEFAULT 0,    -- 0: open until sold out
    disabled_at     INTEGER NOT NULL DEFAULT 0,
    staff_id        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX coupon_batches_tenant ON coupon_batches (tenant_id, id);

CREATE TABLE coupon_codes (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
    batch_id        INTEGER NOT NULL REFERENCES coupon_batches(id),
    code            TEXT    NOT NULL,
    member_id       INTEGER NOT NULL DEFAULT 0, -- 0: not handed out yet
    ref             TEXT    NOT NULL DEFAULT '', -- claim:<member>:<n> or the grant's ref
    claimed_at      INTEGER NOT NULL DEFAULT 0,
    valid_from      INTEGER NOT NULL DEFAULT 0,
    valid_until     INTEGER NOT NULL DEFAULT 0,
    redeemed_at     INTEGER NOT NULL DEFAULT 0,
    order_id        TEXT    NOT NULL DEFAULT '',
    order_minor     INTEGER NOT NULL DEFAULT 0,
    discount_minor  INTEGER NOT NULL DEFAULT 0,
    free_shipping   BOOLEAN NOT NULL DEFAULT false,
    CHECK (member_id <> 0 OR (ref = '' AND redeemed_at = 0))
);
CREATE UNIQUE INDEX coupon_codes_code ON coupon_codes (tenant_id, code);
CREATE UNIQUE INDEX coupon_codes_ref ON coupon_codes (batch_id, ref) WHERE ref <> '';
CREATE INDEX coupon_codes_free ON coupon_codes (batch_id, id) WHERE member_id = 0;
CREATE INDEX coupon_codes_member ON coupon_codes (tenant_id, member_id) WHERE member_id <> 0;

CREATE TABLE coupon_holders (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    batch_id  INTEGER NOT NULL REFERENCES coupon_batches(id),
    member_id INTEGER NOT NULL,
    held      INTEGER NOT NULL CHECK (held >= 1),
    PRIMARY KEY (batch_id, member_id)
);

CREATE TABLE coupon_perks (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    kind         TEXT    NOT NULL CHECK (kind IN ('member_day','birthday')),
    name         TEXT    NOT NULL,
    batch_id     INTEGER NOT NULL REFERENCES coupon_batches(id),
    day_of_month INTEGER NOT NULL DEFAULT 0 CHECK (day_of_month >= 0 AND day_of_month <= 31),
    weekday      INTEGER NOT NULL DEFAULT -1 CHECK (weekday >= -1 AND weekday <= 6),
    active       BOOLEAN NOT NULL DEFAULT true,
    created_at   INTEGER NOT NULL
);
CREATE INDEX coupon_perks_tenant ON coupon_perks (tenant_id, id);

-- A perk's day done: later passes of that day skip it.
CREATE TABLE coupon_perk_runs (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    perk_id   INTEGER NOT NULL REFERENCES coupon_perks(id),
    day       TEXT    NOT NULL, -- YYYY-MM-DD in the tenant's time zone
    granted   INTEGER NOT NULL DEFAULT 0,
    skipped   INTEGER NOT NULL DEFAULT 0,
    at        INTEGER NOT NULL,
    PRIMARY KEY (perk_id, day)
);

CREATE TABLE coupon_birthdays (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    month     INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    day       INTEGER NOT NULL CHECK (day BETWEEN 1 AND 31),
    set_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);
CREATE INDEX coupon_birthdays_day ON coupon_birthdays (tenant_id, month, day);

CREATE TABLE coupon_settings (
    tenant_id           INTEGER PRIMARY KEY REFERENCES tenants(id),
    free_shipping_minor INTEGER NOT NULL DEFAULT 0 CHECK (free_shipping_minor >= 0) -- 0: no threshold
);
