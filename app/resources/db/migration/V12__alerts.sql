-- Operational events and alert channels.

-- An alert channel's own endpoint: delivered through the normal path (journaled, retried,
-- signed) but never part of fan-out, endpoint lists, counts or stats, and never the
-- subject of an operational event itself (no alert about an alert).
ALTER TABLE endpoints ADD COLUMN internal BOOLEAN NOT NULL DEFAULT false;

-- The outbox of operational events: written by the projections in the same transaction as
-- their offsets (nothing lost to a crash), read and claimed by the alert dispatcher.
-- source_key names the journal record it came from, so a record gives one row at most.
CREATE TABLE operational_events (
  id          BIGSERIAL   PRIMARY KEY,
  source_key  TEXT        NOT NULL UNIQUE,
  tenant_id   UUID        NOT NULL,
  type        TEXT        NOT NULL,
  endpoint_id UUID        NOT NULL,
  event_id    UUID,
  reason      TEXT,
  occurred_at TIMESTAMPTZ NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  batch_id    UUID
);
CREATE INDEX operational_events_unclaimed_idx ON operational_events (tenant_id, id) WHERE batch_id IS NULL;
CREATE INDEX operational_events_batch_idx ON operational_events (batch_id, id) WHERE batch_id IS NOT NULL;

-- A group of a tenant's operational events, claimed in one transaction, then sent to every
-- channel, then marked sent. A batch claimed but not sent (a node died) is sent again, with
-- the same idempotency keys.
CREATE TABLE alert_batches (
  id         UUID        PRIMARY KEY,
  tenant_id  UUID        NOT NULL,
  claimed_at TIMESTAMPTZ NOT NULL,
  sent_at    TIMESTAMPTZ
);
CREATE INDEX alert_batches_tenant_idx ON alert_batches (tenant_id, claimed_at DESC);
CREATE INDEX alert_batches_unsent_idx ON alert_batches (claimed_at) WHERE sent_at IS NULL;

CREATE TABLE alert_channels (
  id          UUID        PRIMARY KEY,
  tenant_id   UUID        NOT NULL,
  kind        TEXT        NOT NULL CHECK (kind IN ('webhook', 'slack', 'pagerduty', 'email')),
  url         TEXT,
  routing_key TEXT,
  email_to    TEXT[],
  event_types TEXT[]      NOT NULL,
  endpoint_id UUID,
  created_at  TIMESTAMPTZ NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX alert_channels_tenant_idx ON alert_channels (tenant_id, created_at, id);

-- What each channel was sent: one row per message (the test sends too). event_id is the
-- Zyven event that carries it, for kinds delivered through the normal path.
CREATE TABLE alert_sends (
  id         BIGSERIAL   PRIMARY KEY,
  channel_id UUID        NOT NULL,
  send_key   TEXT        NOT NULL UNIQUE,
  at         TIMESTAMPTZ NOT NULL,
  types      TEXT[]      NOT NULL,
  summary    TEXT        NOT NULL,
  event_id   UUID,
  outcome    TEXT        NOT NULL,
  error      TEXT
);
CREATE INDEX alert_sends_channel_idx ON alert_sends (channel_id, id DESC);
