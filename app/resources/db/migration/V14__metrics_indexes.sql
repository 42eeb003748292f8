-- The metrics' gauges (ReadModelQueries.backlog and openCircuits), read every few seconds
-- by each node. Partial indexes of the few rows they count, so that they never read the
-- delivered history or every endpoint:
-- unfinished deliveries by state and per endpoint, and the oldest of them (every column
-- those queries read is in the index: index-only scans once the table is vacuumed);
CREATE INDEX deliveries_pending_idx ON deliveries (event_created_at) INCLUDE (endpoint_id, status)
  WHERE status IN ('RECEIVED', 'DISPATCHING', 'RETRY_SCHEDULED');
-- enabled endpoints whose circuit is open.
CREATE INDEX endpoints_circuit_open_idx ON endpoints (id)
  WHERE enabled AND NOT deleted AND circuit_open_since IS NOT NULL;
