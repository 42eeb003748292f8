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

CREATE TABLE deliveries (
  event_id          UUID        NOT NULL,
  endpoint_id       UUID        NOT NULL,
  tenant_id         UUID        NOT NULL,
  status            TEXT        NOT NULL,
  attempt_count     INT         NOT NULL,
  next_attempt_at   TIMESTAMPTZ,
  last_error        TEXT,
  status_changed_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (event_id, endpoint_id)
);
-- POST /v1/endpoints/{id}/recover: an endpoint's dead letters in a time window.
CREATE INDEX deliveries_dead_letters_idx ON deliveries (endpoint_id, status_changed_at)
  WHERE status = 'DEAD_LETTERED';

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
