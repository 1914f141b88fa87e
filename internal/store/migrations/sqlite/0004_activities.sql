-- Community activities: polls and UGC prompts (with their votes and
-- entries), buttons on outbound messages, and the optional join question
-- of a group.

CREATE TABLE polls (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    group_id    INTEGER NOT NULL REFERENCES community_groups(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('poll','prompt')),
    question    TEXT    NOT NULL,
    options     TEXT    NOT NULL DEFAULT '[]', -- JSON array of option labels (polls)
    tag         TEXT    NOT NULL DEFAULT '',   -- the word that marks an entry (prompts)
    points      INTEGER NOT NULL DEFAULT 0,     -- points for a member's first entry (prompts)
    persona_id  INTEGER NOT NULL DEFAULT 0,
    staff_id    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    closes_at   INTEGER NOT NULL,
    closed_at   INTEGER NOT NULL DEFAULT 0      -- set once the result is announced (0: open)
);
CREATE INDEX polls_group ON polls (tenant_id, group_id, closed_at);
CREATE INDEX polls_due ON polls (closed_at, closes_at);

-- One vote per member and poll; voting again changes it until the deadline.
CREATE TABLE poll_votes (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    poll_id   INTEGER NOT NULL REFERENCES polls(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    choice    INTEGER NOT NULL, -- 1-based option number
    at        INTEGER NOT NULL,
    PRIMARY KEY (poll_id, member_id)
);

-- A prompt's entries: each message that answered it, once.
CREATE TABLE poll_entries (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    poll_id   INTEGER NOT NULL REFERENCES polls(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    event_id  INTEGER NOT NULL,
    text      TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (poll_id, event_id)
);
CREATE INDEX poll_entries_member ON poll_entries (poll_id, member_id);

-- Inline buttons of an outbound message (JSON), for channels that show them.
ALTER TABLE outbox ADD COLUMN buttons TEXT NOT NULL DEFAULT '';

-- The join question: a member must answer it to join (answers separated by
-- new lines; empty question: no question).
ALTER TABLE community_groups ADD COLUMN join_question TEXT NOT NULL DEFAULT '';
ALTER TABLE community_groups ADD COLUMN join_answers  TEXT NOT NULL DEFAULT '';
