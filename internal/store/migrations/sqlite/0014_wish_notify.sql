-- Wish → live → notify, and "notify me" on sold-out live products with
-- re-sales offered to exactly those members (issue #7).

-- A wisher told that a live will show what they wished for: one row per
-- live, product and member, so a product saved twice tells nobody twice.
CREATE TABLE wish_live_notices (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    live_id    INTEGER NOT NULL REFERENCES lives(id),
    product_id INTEGER NOT NULL REFERENCES live_products(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    norm       TEXT    NOT NULL, -- the wish (demand-board key) it matched
    at         INTEGER NOT NULL,
    PRIMARY KEY (live_id, product_id, member_id)
);
CREATE INDEX wish_live_notices_tenant ON wish_live_notices (tenant_id, live_id);

-- "Notify me when it is back": one per member and sold-out product.
CREATE TABLE restock_requests (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    live_id    INTEGER NOT NULL REFERENCES lives(id),
    product_id INTEGER NOT NULL REFERENCES live_products(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    at         INTEGER NOT NULL,
    PRIMARY KEY (product_id, member_id)
);
CREATE INDEX restock_requests_tenant ON restock_requests (tenant_id, live_id, product_id);

-- A re-sale of a sold-out product offered to the members who asked: a
-- limited quantity (claimed < quantity, by a conditional update), one per
-- member, open to the requesters of the product only.
CREATE TABLE resales (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    live_id    INTEGER NOT NULL REFERENCES lives(id),
    product_id INTEGER NOT NULL REFERENCES live_products(id),
    price      INTEGER NOT NULL CHECK (price >= 0),
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    claimed    INTEGER NOT NULL DEFAULT 0 CHECK (claimed >= 0 AND claimed <= quantity),
    note       TEXT    NOT NULL DEFAULT '',
    closes_at  INTEGER NOT NULL,
    staff_id   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX resales_tenant ON resales (tenant_id, live_id, product_id);

CREATE TABLE resale_claims (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    resale_id  INTEGER NOT NULL REFERENCES resales(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    no         INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (resale_id, member_id),
    UNIQUE (resale_id, no)
);
