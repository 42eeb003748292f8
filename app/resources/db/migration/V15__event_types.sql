-- The event-type catalogue: per tenant, a type's description, optional JSON Schema
-- (2020-12) and example, kept as the text the tenant sent so it reads back as written.
-- version comes from one sequence for every row, so a type deleted and made again never
-- reuses a version: nodes cache compiled schemas by (tenant, name, version).
CREATE SEQUENCE event_type_versions;

CREATE TABLE event_types (
  tenant_id   UUID        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        TEXT        NOT NULL,
  description TEXT        NOT NULL DEFAULT '',
  schema      TEXT,
  example     TEXT,
  archived    BOOLEAN     NOT NULL DEFAULT false,
  version     BIGINT      NOT NULL DEFAULT nextval('event_type_versions'),
  created_at  TIMESTAMPTZ NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (tenant_id, name)
);

-- Every change to the catalogue, with who made it and what it set; kept after a delete.
CREATE TABLE event_type_changes (
  id         BIGSERIAL   PRIMARY KEY,
  tenant_id  UUID        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name       TEXT        NOT NULL,
  action     TEXT        NOT NULL,
  changes    JSONB       NOT NULL,
  by         TEXT        NOT NULL,
  at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX event_type_changes_idx ON event_type_changes (tenant_id, name, id);

-- Refuse ingest of types that are not in the tenant's catalogue.
ALTER TABLE tenants ADD COLUMN require_registered_types BOOLEAN NOT NULL DEFAULT false;
