-- Indexes for the analytics dashboard's queries (issue #8), found by
-- `liveloop bench analytics` over 10 million events (docs/benchmarks.md).

-- A group's members at a given time, read by group from the index alone
-- (it holds the leave and removal times): Content counts the reach of
-- each campaign push (a correlated count per push) and Capacity the
-- members of each group. Without it SQLite read them through
-- group_members_member (tenant_id, member_id): every membership of the
-- tenant, once per push and once per group.
CREATE INDEX group_members_group ON group_members (tenant_id, group_id, joined_at, left_at, removed_at);

-- The send-time heatmap's cells: two metrics over the period's days. The
-- primary key leads with the group, so over all groups it read every
-- hourly row of the tenant.
CREATE INDEX an_hourly_metric_day ON an_hourly (tenant_id, metric, day);
