-- Review reports (复盘, issue #8): each one generated — weekly, monthly or
-- on demand — kept whole (its data as JSON, rendered again on view), so the
-- history shows what was reported then. Periods are tenant-local days
-- (days since 1970-01-01), period_to exclusive.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('weekly', 'monthly', 'custom')),
    period_from INTEGER NOT NULL,
    period_to   INTEGER NOT NULL CHECK (period_to > period_from),
    created_at  INTEGER NOT NULL,
    created_by  INTEGER REFERENCES staff(id), -- NULL: the schedule
    data        TEXT    NOT NULL,
    sent_at     INTEGER                       -- NULL: not sent to staff
);
-- The schedule makes one weekly and one monthly report per period: a
-- second node, or a pass repeated after a crash, adds nothing.
CREATE UNIQUE INDEX reports_period ON reports (tenant_id, kind, period_from) WHERE kind <> 'custom';
CREATE INDEX reports_tenant ON reports (tenant_id, id);

-- Where a brand's scheduled reports are sent: an internal staff group, in
-- a language ('' : the brand's).
CREATE TABLE report_settings (
    tenant_id     INTEGER PRIMARY KEY REFERENCES tenants(id),
    send_group_id INTEGER REFERENCES community_groups(id),
    locale        TEXT    NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL
);
