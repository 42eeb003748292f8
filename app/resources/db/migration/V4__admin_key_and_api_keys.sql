-- The admin key, when the node generated it: stored only as its SHA-256, so that it
-- survives restarts and is shown once. One row at most. ZYVEN_ADMIN_KEY, when set,
-- overrides it on that node.
CREATE TABLE admin_key (
  id          SMALLINT    PRIMARY KEY CHECK (id = 1),
  key_hash    TEXT        NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL,
  -- Which node printed it, so later starts can say where to look.
  created_by  TEXT        NOT NULL
);

-- A tenant may hold several keys: the admin issues a new one when a tenant lost its own.
CREATE TABLE api_keys (
  id          UUID        PRIMARY KEY,
  tenant_id   UUID        NOT NULL REFERENCES tenants (id),
  key_hash    TEXT        NOT NULL UNIQUE,
  created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);

INSERT INTO api_keys (id, tenant_id, key_hash, created_at)
  SELECT gen_random_uuid(), id, api_key_hash, created_at FROM tenants;

-- Kept, nullable, so that nodes of the previous version still authenticate the keys
-- they know during a rolling upgrade; new keys live in api_keys only.
ALTER TABLE tenants ALTER COLUMN api_key_hash DROP NOT NULL;
