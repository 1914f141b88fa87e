-- A live has at most one warm-up playbook: two racing "prepare the
-- warm-up" clicks (or two nodes) cannot both create one.
CREATE UNIQUE INDEX campaign_playbooks_one_warmup ON campaign_playbooks (tenant_id, live_id) WHERE kind = 'warmup' AND live_id > 0;
