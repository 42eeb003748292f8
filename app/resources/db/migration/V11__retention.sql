-- Retention (zyven.retention.*): a tenant's own period, set by the admin; NULL follows
-- zyven.retention.period.
ALTER TABLE tenants ADD COLUMN retention_period_days INT
  CHECK (retention_period_days BETWEEN 1 AND 36500);

-- The sweep's search: a tenant's finished events, oldest last change first.
CREATE INDEX events_retention_idx ON events (tenant_id, updated_at)
  WHERE status IN ('DELIVERED', 'DEAD_LETTERED');

-- The last sweep's figures, for /metrics on every node (one row).
CREATE TABLE retention_sweep (
  id               INT         PRIMARY KEY CHECK (id = 1),
  last_run_at      TIMESTAMPTZ NOT NULL,
  last_run_removed INT         NOT NULL,
  last_run_kept    INT         NOT NULL,
  oldest_event_at  TIMESTAMPTZ
);

-- Retention deletes rows all the time: vacuum the busy tables after 5 % of their rows
-- changed (PostgreSQL's default waits for 20 %), so that freed space is reused at once and
-- tables stay the size of what they keep, with no VACUUM FULL.
ALTER TABLE event_journal SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE event_tag SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
ALTER TABLE attempts SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
