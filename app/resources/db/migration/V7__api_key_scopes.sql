-- Scoped API keys (several per tenant, issued and revoked by the tenant itself). Keys that
-- exist before this migration keep every scope, and stay nameless.
ALTER TABLE api_keys
  ADD COLUMN name                  TEXT,
  ADD COLUMN scopes                TEXT[]      NOT NULL DEFAULT '{ingest,read,manage}',
  -- Events per second this key may send to ingest; NULL: zyven.ingest.rate-limit-per-key.
  ADD COLUMN rate_limit_per_second INTEGER,
  -- Updated at most once a minute per key and node, off the request path.
  ADD COLUMN last_used_at          TIMESTAMPTZ,
  -- A revoked key is kept as a record of what existed; it no longer authenticates.
  ADD COLUMN revoked_at            TIMESTAMPTZ;
