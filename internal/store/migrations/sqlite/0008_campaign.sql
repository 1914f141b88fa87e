-- The campaign engine: the content library, playbooks (timelines of steps
-- relative to an anchor), the durable job queue their expansion fills, the
-- record of every send and skip (caps are counted from it), and each
-- tenant's sending policy (quiet hours, the sales cap).

CREATE TABLE campaign_content (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    title       TEXT    NOT NULL,
    type        TEXT    NOT NULL CHECK (type IN ('knowledge','lifestyle','promo','live_preview','flash_sale','recap','activity')),
    format      TEXT    NOT NULL CHECK (format IN ('text','image','video','link','product_card')),
    persona_id  INTEGER NOT NULL DEFAULT 0,
    variants    TEXT    NOT NULL DEFAULT '{}', -- JSON object: locale → text with placeholders
    media_url   TEXT    NOT NULL DEFAULT '',
    link_url    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    archived_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX campaign_content_tenant ON campaign_content (tenant_id, type, id);

CREATE TABLE campaign_content_tags (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    content_id INTEGER NOT NULL REFERENCES campaign_content(id),
    tag        TEXT    NOT NULL,
    PRIMARY KEY (content_id, tag)
);
CREATE INDEX campaign_content_tags_tag ON campaign_content_tags (tenant_id, tag);

CREATE TABLE campaign_playbooks (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('warmup','new_member','post_live','custom')),
    anchor     TEXT    NOT NULL CHECK (anchor IN ('live_start','live_end','member_join','date')),
    live_id    INTEGER NOT NULL DEFAULT 0,
    anchor_at  INTEGER NOT NULL DEFAULT 0, -- the date anchor
    active     BOOLEAN NOT NULL DEFAULT true,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX campaign_playbooks_tenant ON campaign_playbooks (tenant_id, id);
CREATE INDEX campaign_playbooks_live ON campaign_playbooks (tenant_id, live_id);

CREATE TABLE campaign_steps (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    playbook_id INTEGER NOT NULL REFERENCES campaign_playbooks(id),
    position    INTEGER NOT NULL CHECK (position > 0),
    days        INTEGER NOT NULL DEFAULT 0,   -- day offset in the tenant's zone (T-7: -7)
    at_clock    TEXT    NOT NULL DEFAULT '',  -- "HH:MM" in the tenant's zone, or '' for the minute offset
    minutes     INTEGER NOT NULL DEFAULT 0,   -- offset from the anchor when at_clock is ''
    content_id  INTEGER NOT NULL REFERENCES campaign_content(id),
    target      TEXT    NOT NULL,             -- JSON: kind, groups, segment
    best_time   BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX campaign_steps_playbook ON campaign_steps (tenant_id, playbook_id, position);

-- The durable queue: one row per step × target × occurrence, unique by
-- its key, so expanding again adds nothing. A worker takes due rows with a
-- lease; a crashed worker's rows are taken again when the lease ends.
CREATE TABLE campaign_jobs (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
    playbook_id    INTEGER NOT NULL,
    step_id        INTEGER NOT NULL,
    live_id        INTEGER NOT NULL DEFAULT 0,
    member_id      INTEGER NOT NULL DEFAULT 0, -- a member journey's member
    group_id       INTEGER NOT NULL DEFAULT 0, -- 0: private messages to a segment
    content_id     INTEGER NOT NULL,
    content_type   TEXT    NOT NULL DEFAULT '', -- denormalised for the calendar and the mix
    key            TEXT    NOT NULL,
    run_at         INTEGER NOT NULL,
    anchor_at      INTEGER NOT NULL,            -- the anchor the run time was computed from
    offset_days    INTEGER NOT NULL DEFAULT 0,
    offset_minutes INTEGER NOT NULL DEFAULT 0,
    clock          TEXT    NOT NULL DEFAULT '', -- the local "HH:MM" used ('' : minute offset)
    state          TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','running','sent','skipped','failed','cancelled')),
    reason         TEXT    NOT NULL DEFAULT '',
    lease_until    INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    sent           INTEGER NOT NULL DEFAULT 0,
    skipped        INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    done_at        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, key)
);
CREATE INDEX campaign_jobs_due ON campaign_jobs (state, run_at);
CREATE INDEX campaign_jobs_lease ON campaign_jobs (state, lease_until);
CREATE INDEX campaign_jobs_calendar ON campaign_jobs (tenant_id, run_at);
CREATE INDEX campaign_jobs_live ON campaign_jobs (tenant_id, live_id, state);
CREATE INDEX campaign_jobs_playbook ON campaign_jobs (tenant_id, playbook_id, state);

-- Each recipient of a job: handed to the outbox (outcome 'sent') or
-- skipped with the reason. Sales sends in the window are what the caps
-- count. One row per job and recipient (member, or group; the other is 0).
CREATE TABLE campaign_sends (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    job_id    INTEGER NOT NULL REFERENCES campaign_jobs(id),
    member_id INTEGER NOT NULL DEFAULT 0,
    group_id  INTEGER NOT NULL DEFAULT 0,
    sales     BOOLEAN NOT NULL DEFAULT false,
    sent_at   INTEGER NOT NULL,
    outcome   TEXT    NOT NULL CHECK (outcome IN ('sent','skipped')),
    reason    TEXT    NOT NULL DEFAULT '',
    UNIQUE (tenant_id, job_id, member_id, group_id)
);
CREATE INDEX campaign_sends_member ON campaign_sends (tenant_id, member_id, sent_at);
CREATE INDEX campaign_sends_group ON campaign_sends (tenant_id, group_id, sent_at);

-- A tenant's sending policy; no row: the defaults (22:00–08:00, 3 sales
-- pushes per 7 days).
CREATE TABLE campaign_settings (
    tenant_id   INTEGER PRIMARY KEY REFERENCES tenants(id),
    quiet_start TEXT    NOT NULL DEFAULT '22:00',
    quiet_end   TEXT    NOT NULL DEFAULT '08:00',
    sales_cap   INTEGER NOT NULL DEFAULT 3 CHECK (sales_cap > 0),
    cap_days    INTEGER NOT NULL DEFAULT 7 CHECK (cap_days > 0),
    updated_at  INTEGER NOT NULL
);
