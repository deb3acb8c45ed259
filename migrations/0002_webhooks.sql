-- Webhook signing secrets. A rotated-out secret keeps signing alongside the
-- new one until it expires, so receivers can switch without losing events.
ALTER TABLE api_keys ADD COLUMN webhook_secret TEXT;
ALTER TABLE api_keys ADD COLUMN previous_webhook_secret TEXT;
ALTER TABLE api_keys ADD COLUMN previous_secret_expires_at TEXT;

-- The durable outbox of webhook events: one row per event, written in the
-- same transaction as the status change it reports.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,   -- the webhook-id header, stable across retries
    key_id           TEXT NOT NULL REFERENCES api_keys (id),
    action_id        TEXT REFERENCES actions (id),
    event_type       TEXT NOT NULL,
    url              TEXT NOT NULL,      -- resolved when the row is written
    payload          TEXT NOT NULL,      -- the exact body sent on every attempt
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER,            -- NULL: as many as the retry schedule allows
    next_attempt_at  TEXT NOT NULL,
    claimed_by       TEXT,               -- dispatcher holding the lease
    claimed_until    TEXT,
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    last_status_code INTEGER,
    last_error       TEXT,
    last_latency_ms  INTEGER
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_key ON webhook_deliveries (key_id, id);
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (id) WHERE status = 'failed';

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt          INTEGER NOT NULL,
    attempted_at     TEXT NOT NULL,
    status_code      INTEGER,
    latency_ms       INTEGER NOT NULL,
    error            TEXT,
    response_snippet TEXT,
    PRIMARY KEY (delivery_id, attempt)
) STRICT;

-- Live dispatchers on this database, with a heartbeat; a one-shot command
-- leaves delivery to one of them and rings its doorbell port.
CREATE TABLE dispatchers (
    id            TEXT PRIMARY KEY,
    pid           INTEGER NOT NULL,
    doorbell_port INTEGER,
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
) STRICT;

CREATE INDEX webhook_attempts_recent ON webhook_attempts (attempted_at);
