-- Join codes that route across a set of groups (活码) and referral
-- campaigns (裂变).
--
-- A set's join code is a join_codes row with set_id set; its group_id (NOT
-- NULL since 0001) names the set's first group when the code was made and
-- is not used for routing: a join through a set code goes to the first
-- group of the set, in order, below its soft cap.

CREATE TABLE group_sets (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    name        TEXT    NOT NULL,
    full_since  INTEGER,           -- a join was refused because every group was full; cleared by a join or an edit
    created_at  INTEGER NOT NULL
);
CREATE INDEX group_sets_tenant ON group_sets (tenant_id, id);

CREATE TABLE group_set_groups (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    set_id    INTEGER NOT NULL REFERENCES group_sets(id),
    group_id  INTEGER NOT NULL REFERENCES community_groups(id),
    position  INTEGER NOT NULL CHECK (position > 0),
    soft_cap  INTEGER NOT NULL CHECK (soft_cap > 0),
    hard_cap  INTEGER NOT NULL CHECK (hard_cap >= soft_cap),
    PRIMARY KEY (set_id, group_id),
    UNIQUE (set_id, position)
);
CREATE INDEX group_set_groups_tenant ON group_set_groups (tenant_id, set_id);

ALTER TABLE join_codes ADD COLUMN set_id INTEGER REFERENCES group_sets(id);
CREATE INDEX join_codes_set ON join_codes (tenant_id, set_id);

-- A campaign: invitees join its target (a set or a group) through a
-- member's personal link; an invitee counts once they stayed stay_days.
CREATE TABLE referral_campaigns (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
    name         TEXT    NOT NULL,
    set_id       INTEGER REFERENCES group_sets(id),
    group_id     INTEGER REFERENCES community_groups(id),
    join_code_id INTEGER NOT NULL REFERENCES join_codes(id), -- the target's code (source "referral:<id>")
    stay_days    INTEGER NOT NULL CHECK (stay_days >= 0),
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    CHECK ((set_id IS NULL) <> (group_id IS NULL)),
    CHECK (ends_at > starts_at)
);
CREATE INDEX referral_campaigns_tenant ON referral_campaigns (tenant_id, id);

-- Rewards by threshold of valid invitees: points, a coupon batch, a gift
-- the operator hands over — any of them.
CREATE TABLE referral_rewards (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    campaign_id INTEGER NOT NULL REFERENCES referral_campaigns(id),
    threshold   INTEGER NOT NULL CHECK (threshold > 0),
    points      INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    coupon_batch_id INTEGER NOT NULL DEFAULT 0, -- a coupon batch of the coupon feature; 0: none
    gift        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (campaign_id, threshold)
);

-- One personal link per member and campaign.
CREATE TABLE referral_codes (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    campaign_id INTEGER NOT NULL REFERENCES referral_campaigns(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    code        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, member_id)
);

-- An invitee of a campaign (once per campaign): pending until stay_days
-- passed, then valid, or rejected with its reason.
CREATE TABLE referral_invites (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    campaign_id INTEGER NOT NULL REFERENCES referral_campaigns(id),
    referrer_id INTEGER NOT NULL REFERENCES members(id),
    invitee_id  INTEGER NOT NULL REFERENCES members(id),
    group_id    INTEGER NOT NULL,
    joined_at   INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending','valid','rejected')),
    reason      TEXT    NOT NULL DEFAULT '',
    ip_hash     TEXT    NOT NULL DEFAULT '', -- HMAC of the address, never the address
    device_hash TEXT    NOT NULL DEFAULT '', -- HMAC of the device cookie
    decided_at  INTEGER,
    UNIQUE (campaign_id, invitee_id)
);
CREATE INDEX referral_invites_referrer ON referral_invites (tenant_id, campaign_id, referrer_id);
CREATE INDEX referral_invites_pending ON referral_invites (status, joined_at);
CREATE INDEX referral_invites_ip ON referral_invites (tenant_id, ip_hash, joined_at);
CREATE INDEX referral_invites_device ON referral_invites (tenant_id, device_hash, joined_at);

-- Devices a member used on the web community (hashed cookie): a referrer
-- inviting themselves from their own phone is seen here.
CREATE TABLE member_devices (
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    device_hash TEXT    NOT NULL,
    seen_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, member_id, device_hash)
);
CREATE INDEX member_devices_hash ON member_devices (tenant_id, device_hash);

-- A reward given: once per campaign, member and threshold.
CREATE TABLE referral_grants (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    campaign_id INTEGER NOT NULL REFERENCES referral_campaigns(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    threshold   INTEGER NOT NULL,
    ref         TEXT    NOT NULL,
    points      INTEGER NOT NULL DEFAULT 0,
    coupon_batch_id INTEGER NOT NULL DEFAULT 0,
    gift        TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '', -- e.g. the member could not be told
    granted_at  INTEGER NOT NULL,
    fulfilled_at INTEGER,                    -- the operator handed the gift over
    UNIQUE (campaign_id, member_id, threshold)
);
CREATE INDEX referral_grants_tenant ON referral_grants (tenant_id, campaign_id, granted_at);
