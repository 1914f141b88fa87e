-- Loyalty: daily check-ins, the points ledger and balances, rewards and
-- redemptions. The database holds the invariants: one check-in per member
-- and day, no negative balance, no redemption beyond stock.

CREATE TABLE checkins (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    day       TEXT    NOT NULL,
    group_id  INTEGER,
    at        INTEGER NOT NULL,
    streak    INTEGER NOT NULL,
    points    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, member_id, day)
);

CREATE TABLE points_ledger (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    member_id     INTEGER NOT NULL REFERENCES members(id),
    delta         INTEGER NOT NULL CHECK (delta <> 0),
    kind          TEXT    NOT NULL CHECK (kind IN ('checkin','streak','discussion','activity','welcome','redemption','adjust','refund')),
    ref           TEXT    NOT NULL,
    group_id      INTEGER,
    staff_id      INTEGER,
    note          TEXT    NOT NULL DEFAULT '',
    at            INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    UNIQUE (tenant_id, ref)
);
CREATE INDEX points_ledger_member ON points_ledger (tenant_id, member_id, id);
CREATE INDEX points_ledger_at ON points_ledger (tenant_id, at);

CREATE TABLE point_balances (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    balance   INTEGER NOT NULL CHECK (balance >= 0),
    earned    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, member_id)
);

CREATE TABLE rewards (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    price       INTEGER NOT NULL CHECK (price > 0),
    stock       INTEGER NOT NULL CHECK (stock >= 0),
    active      BOOLEAN NOT NULL DEFAULT true,
    created_at  INTEGER NOT NULL
);
CREATE INDEX rewards_tenant ON rewards (tenant_id, id);

CREATE TABLE redemptions (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    reward_id INTEGER NOT NULL REFERENCES rewards(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    points    INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    ref       TEXT    NOT NULL,
    UNIQUE (tenant_id, ref)
);
CREATE INDEX redemptions_tenant ON redemptions (tenant_id, id);
