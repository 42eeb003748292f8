-- The metrics' backlog gauges (ReadModelQueries.backlog, refreshed every few seconds by
-- each node): unfinished deliveries by state and per endpoint, and the oldest of them.
-- A partial index of the unfinished ones only, holding every column those queries read,
-- so each is an index-only scan of the backlog, whatever the size of the delivered history.
CREATE INDEX deliveries_pending_idx ON deliveries (event_created_at) INCLUDE (endpoint_id, status)
  WHERE status IN ('RECEIVED', 'DISPATCHING', 'RETRY_SCHEDULED');
