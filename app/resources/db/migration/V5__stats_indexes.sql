-- GET /v1/stats and GET /v1/endpoints/{id}/health (StatsQueries). Each of their queries is
-- an index range scan per tenant (or per endpoint of the tenant), bounded by the window.
-- Accepted events per bucket use events_tenant_idx (tenant_id, created_at) of V3.

-- Stats, delivered per bucket: the tenant's deliveries that became DELIVERED in the window.
CREATE INDEX deliveries_tenant_delivered_idx ON deliveries (tenant_id, status_changed_at)
  WHERE status = 'DELIVERED';

-- Stats, dead letters: the tenant's deliveries that are DEAD_LETTERED now (counted with a cap).
CREATE INDEX deliveries_tenant_dead_letters_idx ON deliveries (tenant_id)
  WHERE status = 'DEAD_LETTERED';

-- Attempts carry no tenant id. Stats reach them through the tenant's endpoints, deleted
-- ones included (their attempts still happened): this index lists those endpoints...
CREATE INDEX endpoints_tenant_all_idx ON endpoints (tenant_id);
-- ...and this one gives each endpoint's attempts in a time range: stats' failed attempts
-- and success rate, "failing" (an endpoint's last attempt in the window), and health's
-- last hour and last attempt. status_code is included so that counting reads no table rows.
CREATE INDEX attempts_endpoint_started_idx ON attempts (endpoint_id, started_at) INCLUDE (status_code);

-- Whether an endpoint's circuit is open, for stats' circuit_open and failing counts. The
-- EndpointEntity writes it after journaling CircuitOpened, CircuitClosed or Enabled, and
-- after every recovery; circuit_seq_nr is the journal sequence number of the state it
-- wrote, so a late write of an older state never wins.
ALTER TABLE endpoints
  ADD COLUMN circuit_open_since TIMESTAMPTZ,
  ADD COLUMN circuit_seq_nr BIGINT NOT NULL DEFAULT 0;
