-- Tenants. The API key is stored only as its SHA-256 (keys are 256 random bits, so a
-- fast hash is enough; no salt or stretching is needed against guessing).
CREATE TABLE tenants (
  id           UUID        PRIMARY KEY,
  name         TEXT        NOT NULL,
  api_key_hash TEXT        NOT NULL UNIQUE,
  created_at   TIMESTAMPTZ NOT NULL
);

-- A query index of endpoints, for listing and for ingest fan-out. The EndpointEntity
-- journal is the source of truth; rows are upserted only by a newer version.
CREATE TABLE endpoints (
  id          UUID        PRIMARY KEY,
  tenant_id   UUID        NOT NULL,
  event_types TEXT[]      NOT NULL,
  enabled     BOOLEAN     NOT NULL,
  deleted     BOOLEAN     NOT NULL,
  version     BIGINT      NOT NULL,
  config      JSONB       NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX endpoints_tenant_idx ON endpoints (tenant_id, created_at) WHERE NOT deleted;
