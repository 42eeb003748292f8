-- Offsets of pekko-projection-jdbc (names lower-case: use-lowercase-schema = true).
CREATE TABLE pekko_projection_offset_store (
  projection_name VARCHAR(255) NOT NULL,
  projection_key  VARCHAR(255) NOT NULL,
  current_offset  VARCHAR(255) NOT NULL,
  manifest        VARCHAR(4)   NOT NULL,
  mergeable       BOOLEAN      NOT NULL,
  last_updated    BIGINT       NOT NULL,
  PRIMARY KEY (projection_name, projection_key)
);
CREATE INDEX projection_name_index ON pekko_projection_offset_store (projection_name);

CREATE TABLE pekko_projection_management (
  projection_name VARCHAR(255) NOT NULL,
  projection_key  VARCHAR(255) NOT NULL,
  paused          BOOLEAN      NOT NULL,
  last_updated    BIGINT       NOT NULL,
  PRIMARY KEY (projection_name, projection_key)
);

-- The read model, written only by the projection of the event journal, in the same
-- transaction as its offset (exactly once). GET /v1/events/{id} reads the entity instead.
CREATE TABLE events (
  event_id   UUID        PRIMARY KEY,
  tenant_id  UUID        NOT NULL,
  type       TEXT        NOT NULL,
  status     TEXT        NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
-- GET /v1/events lists newest first with a (created_at, event_id) keyset cursor; one index
-- per filter keeps every page an index range scan, whatever the table's size.
CREATE INDEX events_tenant_idx ON events (tenant_id, created_at DESC, event_id DESC);
CREATE INDEX events_tenant_status_idx ON events (tenant_id, status, created_at DESC, event_id DESC);
CREATE INDEX events_tenant_type_idx ON events (tenant_id, type, created_at DESC, event_id DESC);

CREATE TABLE deliveries (
  event_id          UUID        NOT NULL,
  endpoint_id       UUID        NOT NULL,
  tenant_id         UUID        NOT NULL,
  event_type        TEXT        NOT NULL,
  event_created_at  TIMESTAMPTZ NOT NULL,
  status            TEXT        NOT NULL,
  attempt_count     INT         NOT NULL,
  next_attempt_at   TIMESTAMPTZ,
  last_error        TEXT,
  status_changed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (event_id, endpoint_id)
);
-- GET /v1/events?endpoint_id=...[&status=...|&type=...]: the same keyset, per endpoint.
-- tenant_id leads so that another tenant's endpoint id is an empty range, not a scan of
-- that endpoint's deliveries; the event type is copied here so a type filter stays in
-- the index too.
CREATE INDEX deliveries_endpoint_idx
  ON deliveries (tenant_id, endpoint_id, event_created_at DESC, event_id DESC);
CREATE INDEX deliveries_endpoint_status_idx
  ON deliveries (tenant_id, endpoint_id, status, event_created_at DESC, event_id DESC);
CREATE INDEX deliveries_endpoint_type_idx
  ON deliveries (tenant_id, endpoint_id, event_type, event_created_at DESC, event_id DESC);
-- POST /v1/endpoints/{id}/recover: an endpoint's dead letters in a time window.
CREATE INDEX deliveries_dead_letters_idx ON deliveries (endpoint_id, status_changed_at)
  WHERE status = 'DEAD_LETTERED';
-- The waker: retries that are due, and attempts that started long ago and never ended.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'RETRY_SCHEDULED';
CREATE INDEX deliveries_in_progress_idx ON deliveries (status_changed_at)
  WHERE status IN ('RECEIVED', 'DISPATCHING');

CREATE TABLE attempts (
  event_id    UUID        NOT NULL,
  endpoint_id UUID        NOT NULL,
  number      INT         NOT NULL,
  started_at  TIMESTAMPTZ NOT NULL,
  status_code INT,
  latency_ms  BIGINT      NOT NULL,
  error       TEXT,
  PRIMARY KEY (event_id, endpoint_id, number)
);

-- Projection lag: journal rows of a tag past the projection's offset.
CREATE INDEX event_tag_tag_idx ON event_tag (tag, event_id);
