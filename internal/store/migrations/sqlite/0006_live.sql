-- The live loop: live sessions with their product lists (直播清单), coupon
-- drops with their claims, and provably fair lotteries with their winners.

CREATE TABLE lives (
    id                 INTEGER PRIMARY KEY,
    tenant_id          INTEGER NOT NULL REFERENCES tenants(id),
    title              TEXT    NOT NULL,
    host_persona_id    INTEGER NOT NULL DEFAULT 0,
    scheduled_at       INTEGER NOT NULL,
    stream_url         TEXT    NOT NULL DEFAULT '', -- the external live platform's page
    embed_url          TEXT    NOT NULL DEFAULT '', -- an embeddable player (HLS or a platform embed)
    state              TEXT    NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled','warming','live','ended')),
    started_at         INTEGER NOT NULL DEFAULT 0,
    ended_at           INTEGER NOT NULL DEFAULT 0,
    alert_groups       TEXT    NOT NULL DEFAULT '[]', -- JSON array of group ids told when the live starts
    alert_repeat       INTEGER NOT NULL DEFAULT 0 CHECK (alert_repeat >= 0),
    alert_interval_s   INTEGER NOT NULL DEFAULT 0 CHECK (alert_interval_s >= 0),
    alert_persona_id   INTEGER NOT NULL DEFAULT 0,
    current_product_id INTEGER NOT NULL DEFAULT 0,
    revision           INTEGER NOT NULL DEFAULT 0, -- counts in-live changes; numbers their events
    staff_id           INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
);
CREATE INDEX lives_tenant ON lives (tenant_id, scheduled_at);
CREATE INDEX lives_state ON lives (state, started_at);

CREATE TABLE live_products (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    live_id    INTEGER NOT NULL REFERENCES lives(id),
    position   INTEGER NOT NULL CHECK (position > 0), -- order in the show
    name       TEXT    NOT NULL,
    price      INTEGER NOT NULL CHECK (price >= 0),      -- minor units
    live_price INTEGER NOT NULL CHECK (live_price >= 0), -- minor units
    stock      INTEGER NOT NULL CHECK (stock >= 0),
    cover_url  TEXT    NOT NULL DEFAULT '',
    UNIQUE (live_id, position)
);
CREATE INDEX live_products_tenant ON live_products (tenant_id, live_id);

-- A coupon drop: quantity claims at most, one per member. The conditional
-- increment of claimed (… WHERE claimed < quantity) numbers each claim, and
-- the claims' keys make "no member twice, never more than quantity" hold in
-- the database whatever the callers do.
CREATE TABLE live_coupon_drops (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    live_id    INTEGER NOT NULL REFERENCES lives(id),
    title      TEXT    NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    claimed    INTEGER NOT NULL DEFAULT 0 CHECK (claimed >= 0 AND claimed <= quantity),
    opens_at   INTEGER NOT NULL,
    closes_at  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX live_coupon_drops_live ON live_coupon_drops (tenant_id, live_id);

CREATE TABLE live_coupon_claims (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    drop_id   INTEGER NOT NULL REFERENCES live_coupon_drops(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    claim_no  INTEGER NOT NULL CHECK (claim_no > 0), -- 1..quantity, from the drop's counter
    at        INTEGER NOT NULL,
    PRIMARY KEY (drop_id, member_id),
    UNIQUE (drop_id, claim_no)
);
CREATE INDEX live_coupon_claims_member ON live_coupon_claims (tenant_id, member_id);

-- A lottery: the commitment (SHA-256 of the seed) is shown before the
-- draw; the seed stays secret until drawn_at is set, then is published with
-- the eligible list so anyone can recompute the winners.
CREATE TABLE live_lotteries (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    live_id     INTEGER NOT NULL REFERENCES lives(id),
    prize       TEXT    NOT NULL,
    winners     INTEGER NOT NULL CHECK (winners > 0),
    eligibility TEXT    NOT NULL DEFAULT '{}', -- JSON criteria chosen by the host
    commitment  TEXT    NOT NULL,              -- hex SHA-256 of the seed
    seed        TEXT    NOT NULL,              -- hex; secret while drawn_at = 0
    eligible    TEXT    NOT NULL DEFAULT '[]', -- JSON sorted member ids the draw was made from
    created_at  INTEGER NOT NULL,
    drawn_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX live_lotteries_live ON live_lotteries (tenant_id, live_id);
CREATE INDEX live_lotteries_drawn ON live_lotteries (tenant_id, drawn_at);

CREATE TABLE live_lottery_winners (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    lottery_id INTEGER NOT NULL REFERENCES live_lotteries(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    place      INTEGER NOT NULL CHECK (place > 0), -- order of the draw, 1 first
    claimed_at INTEGER NOT NULL DEFAULT 0,          -- the prize was claimed (winners must be group members)
    PRIMARY KEY (lottery_id, member_id),
    UNIQUE (lottery_id, place)
);
CREATE INDEX live_lottery_winners_member ON live_lottery_winners (tenant_id, member_id);
