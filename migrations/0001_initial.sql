-- API keys: one per agent. Only the SHA-256 of the plaintext key is stored.
CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    key_hash       BLOB NOT NULL UNIQUE,
    display_prefix TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_used_at   TEXT,
    revoked_at     TEXT,
    webhook_url    TEXT
) STRICT;

CREATE INDEX api_keys_display_prefix ON api_keys (display_prefix);

-- Outbound messages submitted by agents, and what became of them.
--
-- Lists of allowed values are spelled as ORs, not IN (...): SQLite builds a
-- temporary b-tree for every IN list of three or more constants each time it
-- checks a row, which made those checks most of the cost of storing one.
CREATE TABLE actions (
    id                TEXT PRIMARY KEY,
    key_id            TEXT NOT NULL REFERENCES api_keys (id),
    channel           TEXT NOT NULL CHECK (
        channel = 'email' OR channel = 'sms' OR channel = 'imessage'
    ),
    recipient_address TEXT NOT NULL,
    recipient_name    TEXT,
    subject           TEXT,
    body              TEXT NOT NULL,
    priority          TEXT NOT NULL CHECK (
        priority = 'urgent' OR priority = 'high' OR priority = 'normal' OR priority = 'low'
    ),
    status            TEXT NOT NULL CHECK (
        status = 'pending' OR status = 'flagged' OR status = 'approved'
        OR status = 'sent' OR status = 'denied' OR status = 'failed'
    ),
    flag_reason       TEXT,
    agent_context     TEXT,
    created_at        TEXT NOT NULL,
    reviewed_at       TEXT,
    sent_at           TEXT,
    error_message     TEXT,
    -- The process that holds the action while its transport runs; lets a
    -- restart tell an interrupted send from one still in progress elsewhere.
    sender_pid        INTEGER
) STRICT;

-- Partial indexes keep intake cheap: a new row touches only the open-queue index.
CREATE INDEX actions_open ON actions (id) WHERE status IN ('pending', 'flagged');
CREATE INDEX actions_sending ON actions (id) WHERE status = 'approved';
-- Queries that want this index must repeat its WHERE clause word for word.
CREATE INDEX actions_decided ON actions (reviewed_at)
    WHERE status = 'sent' OR status = 'denied' OR status = 'failed';
-- No index on key_id: no query looks actions up by key, keys are revoked but
-- never deleted (so the foreign key never searches this table), and every
-- index is one more b-tree insert for each message taken in.
