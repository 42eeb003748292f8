-- Query plans of the read model at scale.
--
-- Run by plans.sh through psql against a THROWAWAY PostgreSQL that has Zyven's schema
-- (Flyway ran) and empty read-model tables:
--   psql -X -v events=10000000 -f plans.sql
-- It fills `events` and `deliveries` with :events events (about 1.2 deliveries each) for
-- 100 tenants (skewed: the biggest has ~10 % of the events), 5 endpoints per tenant, 20
-- types, 30 days of history and realistic statuses, then VACUUM ANALYZEs and runs
-- EXPLAIN (ANALYZE, BUFFERS) on the exact SQL of ReadModelQueries.java. Each query is a
-- prepared statement ($n for each JDBC ?) run twice: with a custom plan (what the first
-- five executions of a JDBC statement get) and with a generic plan (what the server may
-- switch to after that, once pgjdbc has server-prepared the statement).
-- The `attempts` table is not filled: none of these queries reads it.

\set ON_ERROR_STOP 1
\pset pager off

\if :{?events}
\else
  \set events 10000000
\endif

SELECT (SELECT count(*) FROM events) = 0 AND (SELECT count(*) FROM deliveries) = 0 AS read_model_is_empty \gset
\if :read_model_is_empty
\else
  \echo 'events/deliveries are not empty: this script wants a throwaway database'
  \quit
\endif

\echo
\echo '## Server'
SELECT version();
SELECT name, setting, unit FROM pg_settings
 WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost',
                'max_parallel_workers_per_gather', 'jit', 'plan_cache_mode')
 ORDER BY name;

-- ---------------------------------------------------------------------------------------
-- 1. Generate: a staging table (one random draw per column), then both tables from it,
--    with their indexes dropped during the load and rebuilt after from the definitions
--    the migration created (read back from the catalog, so this stays Zyven's schema).
-- ---------------------------------------------------------------------------------------
\echo
\echo '## Load'
SET maintenance_work_mem = '1GB';
SET work_mem = '256MB';
SET synchronous_commit = off;
SELECT setseed(0.20240601) \gset
\timing on

-- A delivery's status from the event's age, tenant, endpoint and two draws: ~2 % dead
-- letters, and all of tenant 0 / endpoint 0's during a 6-hour outage five days ago; the
-- last day has retries; the last two minutes have attempts in progress; a handful of old
-- deliveries are stuck in DISPATCHING (the orphans the waker looks for).
CREATE FUNCTION zyv_bench_status(created timestamptz, t int, k int, r float8, r2 float8)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN t = 0 AND k = 0 AND created >= now() - interval '5 days 6 hours'
         AND created < now() - interval '5 days' THEN 'DEAD_LETTERED'
    WHEN r2 < 0.000002 AND created < now() - interval '1 hour' THEN 'DISPATCHING'
    WHEN created >= now() - interval '2 minutes' AND r < 0.3 THEN 'DISPATCHING'
    WHEN created >= now() - interval '2 minutes' AND r < 0.4 THEN 'RECEIVED'
    WHEN r < 0.02 THEN 'DEAD_LETTERED'
    WHEN created >= now() - interval '1 day' AND r < 0.06 THEN 'RETRY_SCHEDULED'
    ELSE 'DELIVERED' END
$$;

\echo 'staging' :events 'events'
CREATE UNLOGGED TABLE zyv_bench_gen AS
SELECT i, event_id, t, type_no, created_at, k1, k2, s1, s2, r3, r4,
       -- DeliveryStatus.ofEvent: the least advanced non-terminal state; else DEAD_LETTERED
       -- when any delivery is; else DELIVERED.
       CASE WHEN 'RECEIVED' IN (s1, s2) THEN 'RECEIVED'
            WHEN 'DISPATCHING' IN (s1, s2) THEN 'DISPATCHING'
            WHEN 'RETRY_SCHEDULED' IN (s1, s2) THEN 'RETRY_SCHEDULED'
            WHEN 'DEAD_LETTERED' IN (s1, s2) THEN 'DEAD_LETTERED'
            ELSE 'DELIVERED' END AS event_status
FROM (
  SELECT i, event_id, t, type_no, created_at, k1, k2, r3, r4,
         zyv_bench_status(created_at, t, k1, r1, r3) AS s1,
         CASE WHEN k2 IS NOT NULL THEN zyv_bench_status(created_at, t, k2, r2, r4) END AS s2
  FROM (
    SELECT i,
           md5('event-' || i)::uuid AS event_id,
           floor(100 * power(random(), 2))::int AS t,        -- tenant 0 has ~10 %, tenant 99 ~0.5 %
           floor(20 * power(random(), 2))::int AS type_no,   -- a few types dominate
           -- the journal's order: created_at grows with i, over the last 30 days
           now() - interval '30 days' + interval '1 second' * (2592000.0 * i / :events) AS created_at,
           k1,
           CASE WHEN random() < 0.2 THEN (k1 + 1 + floor(random() * 4)::int) % 5 END AS k2,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4
    FROM (SELECT i, floor(random() * 5)::int AS k1 FROM generate_series(1, :events) i) s
  ) x
) y;

CREATE FUNCTION zyv_bench_tenant(t int) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT md5('tenant-' || t)::uuid $$;
CREATE FUNCTION zyv_bench_endpoint(t int, k int) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT md5('endpoint-' || t || '-' || k)::uuid $$;
CREATE FUNCTION zyv_bench_type(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT (ARRAY['user.created', 'order.created', 'order.paid', 'user.updated', 'invoice.created',
                'payment.succeeded', 'shipment.created', 'order.shipped', 'subscription.renewed', 'user.login',
                'invoice.paid', 'payment.failed', 'order.cancelled', 'refund.created', 'user.deleted',
                'subscription.cancelled', 'dispute.opened', 'account.updated', 'payout.paid', 'report.ready'])[n + 1]
$$;

-- The parameters of the queries below, chosen before any index exists (so choosing them
-- warms no index page).
\echo 'query parameters'
CREATE TABLE zyv_bench_params AS
SELECT zyv_bench_tenant(0) AS big_tenant,
       zyv_bench_tenant(99) AS small_tenant,
       zyv_bench_endpoint(0, 0) AS endpoint,
       'invoice.paid'::text AS type,
       c.created_at AS cursor_at, c.event_id AS cursor_id
FROM (SELECT created_at, event_id FROM zyv_bench_gen WHERE t = 0
      ORDER BY created_at DESC, event_id DESC
      OFFSET (SELECT count(*) / 2 FROM zyv_bench_gen WHERE t = 0) LIMIT 1) c;

-- Load, indexes off.
CREATE TABLE zyv_bench_ddl AS
  SELECT 1 AS ord, format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS ddl,
         format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS undo
    FROM pg_constraint WHERE conrelid IN ('events'::regclass, 'deliveries'::regclass) AND contype = 'p'
  UNION ALL
  SELECT 2, indexdef, format('DROP INDEX %I', indexname)
    FROM pg_indexes
   WHERE tablename IN ('events', 'deliveries') AND schemaname = current_schema()
     AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p');
\set ECHO queries
SELECT undo FROM zyv_bench_ddl ORDER BY ord DESC \gexec
\set ECHO none

\echo 'insert into events'
INSERT INTO events (event_id, tenant_id, type, status, created_at, updated_at)
SELECT event_id, zyv_bench_tenant(t), zyv_bench_type(type_no), event_status, created_at, created_at + interval '150 milliseconds'
FROM zyv_bench_gen ORDER BY i;

\echo 'insert into deliveries'
INSERT INTO deliveries (event_id, endpoint_id, tenant_id, event_type, event_created_at, status, attempt_count,
                        next_attempt_at, last_error, status_changed_at)
SELECT event_id, zyv_bench_endpoint(t, k), zyv_bench_tenant(t), zyv_bench_type(type_no), created_at, s,
       CASE s WHEN 'DELIVERED' THEN CASE WHEN r < 0.05 THEN 2 ELSE 1 END
              WHEN 'DEAD_LETTERED' THEN CASE WHEN r < 0.5 THEN 1 ELSE 9 END
              WHEN 'RETRY_SCHEDULED' THEN 1 + floor(r * 7)::int
              WHEN 'DISPATCHING' THEN 1
              ELSE 0 END,
       -- ~2 % of retries overdue: a mild backlog for the waker
       CASE WHEN s = 'RETRY_SCHEDULED' THEN now() + interval '1 hour' * (r * 12 - 0.25) END,
       CASE s WHEN 'DEAD_LETTERED' THEN CASE WHEN r < 0.5 THEN 'HTTP 400' ELSE 'HTTP 500' END
              WHEN 'RETRY_SCHEDULED' THEN 'HTTP 503' END,
       CASE s WHEN 'DEAD_LETTERED' THEN created_at + CASE WHEN r < 0.5 THEN interval '80 milliseconds' ELSE interval '20 hours' * r END
              WHEN 'RETRY_SCHEDULED' THEN least(now(), created_at + interval '1 hour' * r)
              WHEN 'DELIVERED' THEN created_at + interval '80 milliseconds'
              ELSE created_at END
FROM (SELECT i, event_id, t, type_no, created_at, k1 AS k, s1 AS s, r3 AS r FROM zyv_bench_gen
      UNION ALL
      SELECT i, event_id, t, type_no, created_at, k2, s2, r4 FROM zyv_bench_gen WHERE k2 IS NOT NULL) d
ORDER BY i;

DROP TABLE zyv_bench_gen;
\echo 'the constraints and indexes of the migration, again'
\set ECHO queries
SELECT ddl FROM zyv_bench_ddl ORDER BY ord, ddl \gexec
VACUUM (ANALYZE) events;
VACUUM (ANALYZE) deliveries;
\set ECHO none
DROP TABLE zyv_bench_ddl;
DROP FUNCTION zyv_bench_status(timestamptz, int, int, float8, float8);
\timing off

\echo
\echo '## Data'
SELECT count(*) AS events, pg_size_pretty(pg_table_size('events')) AS heap,
       pg_size_pretty(pg_indexes_size('events')) AS indexes FROM events;
SELECT count(*) AS deliveries, pg_size_pretty(pg_table_size('deliveries')) AS heap,
       pg_size_pretty(pg_indexes_size('deliveries')) AS indexes FROM deliveries;
SELECT status, count(*) AS events FROM events GROUP BY status ORDER BY 2 DESC;
SELECT status, count(*) AS deliveries FROM deliveries GROUP BY status ORDER BY 2 DESC;
SELECT count(DISTINCT tenant_id) AS tenants, max(n) AS biggest_tenant, min(n) AS smallest_tenant
  FROM (SELECT tenant_id, count(*) AS n FROM events GROUP BY tenant_id) s;
SELECT indexrelname AS index, pg_size_pretty(pg_relation_size(indexrelid)) AS size
  FROM pg_stat_user_indexes WHERE relname IN ('events', 'deliveries') ORDER BY relname, indexrelname;
SELECT * FROM zyv_bench_params;
SELECT big_tenant, small_tenant, endpoint, type, cursor_at, cursor_id FROM zyv_bench_params \gset

-- ---------------------------------------------------------------------------------------
-- 2. The queries, exactly as ReadModelQueries.java builds them (? -> $n). pgjdbc binds a
--    String as varchar, a UUID as uuid, an int as int4 and a Timestamp as "unspecified".
-- ---------------------------------------------------------------------------------------

-- listEvents, no filter (first page: limit 20 -> LIMIT 21)
PREPARE list_first(uuid, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM events e WHERE e.tenant_id = $1 ORDER BY e.created_at DESC, e.event_id DESC LIMIT $2;
-- listEvents after a cursor
PREPARE list_cursor(uuid, timestamptz, uuid, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM events e WHERE e.tenant_id = $1 AND (e.created_at, e.event_id) < ($2, $3) ORDER BY e.created_at DESC, e.event_id DESC LIMIT $4;
-- listEvents ?status=
PREPARE list_status(uuid, varchar, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM events e WHERE e.tenant_id = $1 AND e.status = $2 ORDER BY e.created_at DESC, e.event_id DESC LIMIT $3;
-- listEvents ?type=
PREPARE list_type(uuid, varchar, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM events e WHERE e.tenant_id = $1 AND e.type = $2 ORDER BY e.created_at DESC, e.event_id DESC LIMIT $3;
-- listEvents ?endpoint_id=
PREPARE list_endpoint(uuid, uuid, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM deliveries d JOIN events e ON e.event_id = d.event_id WHERE d.tenant_id = $1 AND d.endpoint_id = $2 ORDER BY d.event_created_at DESC, d.event_id DESC LIMIT $3;
-- listEvents ?endpoint_id=&status=
PREPARE list_endpoint_status(uuid, uuid, varchar, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM deliveries d JOIN events e ON e.event_id = d.event_id WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.status = $3 ORDER BY d.event_created_at DESC, d.event_id DESC LIMIT $4;
-- listEvents ?since=&until= (a one-day window, three weeks back)
PREPARE list_window(uuid, timestamptz, timestamptz, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM events e WHERE e.tenant_id = $1 AND e.created_at >= $2 AND e.created_at < $3 ORDER BY e.created_at DESC, e.event_id DESC LIMIT $4;
-- listEvents ?status=&type= (two filters, one index)
PREPARE list_status_type(uuid, varchar, varchar, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM events e WHERE e.tenant_id = $1 AND e.status = $2 AND e.type = $3 ORDER BY e.created_at DESC, e.event_id DESC LIMIT $4;
-- listEvents ?endpoint_id=&type= (deliveries.event_type)
PREPARE list_endpoint_type(uuid, uuid, varchar, int4) AS
SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM deliveries d JOIN events e ON e.event_id = d.event_id WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.event_type = $3 ORDER BY d.event_created_at DESC, d.event_id DESC LIMIT $4;
-- listEvents, the deliveries of the page's events
PREPARE page_deliveries(uuid[]) AS
SELECT event_id, endpoint_id, status, attempt_count, next_attempt_at, last_error FROM deliveries WHERE event_id = ANY ($1) ORDER BY endpoint_id;
-- deadLetters (POST /v1/endpoints/{id}/recover)
PREPARE dead_letters(uuid, uuid, timestamptz, timestamptz) AS
SELECT event_id FROM deliveries WHERE endpoint_id = $1 AND tenant_id = $2 AND status = 'DEAD_LETTERED' AND status_changed_at >= $3 AND status_changed_at < $4 ORDER BY status_changed_at;
-- toWake (the waker, every second; batch 500, retry-grace 2 s, stuck-after 6 min)
PREPARE to_wake(timestamptz, int4, timestamptz, int4) AS
(SELECT event_id FROM deliveries WHERE status = 'RETRY_SCHEDULED' AND next_attempt_at < $1 ORDER BY next_attempt_at LIMIT $2) UNION (SELECT event_id FROM deliveries WHERE status IN ('RECEIVED', 'DISPATCHING') AND status_changed_at < $3 ORDER BY status_changed_at LIMIT $4);

SELECT array_agg(event_id) AS page_ids FROM (SELECT event_id FROM events WHERE tenant_id = :'big_tenant' ORDER BY created_at DESC, event_id DESC LIMIT 20) p \gset

\echo
\echo '## Plans'
\echo 'Each query: custom plan, then generic plan. Big tenant =' :'big_tenant' '(~10 % of all events); small tenant =' :'small_tenant'
\echo

\echo '### 1. list: first page, big tenant -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_first(:'big_tenant', 21);

\echo '### 1. list: first page, big tenant -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_first(:'big_tenant', 21);

\echo '### 2. list: first page, small tenant -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_first(:'small_tenant', 21);

\echo '### 2. list: first page, small tenant -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_first(:'small_tenant', 21);

\echo '### 3. list: the page after a cursor halfway down the big tenant list -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_cursor(:'big_tenant', :'cursor_at', :'cursor_id', 21);

\echo '### 3. list: the page after a cursor halfway down the big tenant list -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_cursor(:'big_tenant', :'cursor_at', :'cursor_id', 21);

\echo '### 4. list: status=DEAD_LETTERED, big tenant -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_status(:'big_tenant', 'DEAD_LETTERED', 21);

\echo '### 4. list: status=DEAD_LETTERED, big tenant -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_status(:'big_tenant', 'DEAD_LETTERED', 21);

\echo '### 5. list: status=RETRY_SCHEDULED (rare), big tenant -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_status(:'big_tenant', 'RETRY_SCHEDULED', 21);

\echo '### 5. list: status=RETRY_SCHEDULED (rare), big tenant -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_status(:'big_tenant', 'RETRY_SCHEDULED', 21);

\echo '### 6. list: type=invoice.paid, big tenant -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_type(:'big_tenant', :'type', 21);

\echo '### 6. list: type=invoice.paid, big tenant -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_type(:'big_tenant', :'type', 21);

\echo '### 7. list: endpoint_id -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint(:'big_tenant', :'endpoint', 21);

\echo '### 7. list: endpoint_id -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint(:'big_tenant', :'endpoint', 21);

\echo '### 8. list: endpoint_id + status=DEAD_LETTERED -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint_status(:'big_tenant', :'endpoint', 'DEAD_LETTERED', 21);

\echo '### 8. list: endpoint_id + status=DEAD_LETTERED -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint_status(:'big_tenant', :'endpoint', 'DEAD_LETTERED', 21);

\echo '### 9. list: since/until (one day, three weeks back), big tenant -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_window(:'big_tenant', now() - interval '22 days', now() - interval '21 days', 21);

\echo '### 9. list: since/until (one day, three weeks back), big tenant -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_window(:'big_tenant', now() - interval '22 days', now() - interval '21 days', 21);

\echo '### 10. list: status=RETRY_SCHEDULED + type (two filters), big tenant -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_status_type(:'big_tenant', 'RETRY_SCHEDULED', :'type', 21);

\echo '### 10. list: status=RETRY_SCHEDULED + type (two filters), big tenant -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_status_type(:'big_tenant', 'RETRY_SCHEDULED', :'type', 21);

\echo '### 11. list: endpoint_id + type -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint_type(:'big_tenant', :'endpoint', :'type', 21);

\echo '### 11. list: endpoint_id + type -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint_type(:'big_tenant', :'endpoint', :'type', 21);

\echo '### 12. list: the deliveries of a page of 20 events -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page_deliveries(:'page_ids');

\echo '### 12. list: the deliveries of a page of 20 events -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE page_deliveries(:'page_ids');

\echo '### 13. recover (deadLetters): an endpoint with a 6-hour outage, a one-day window -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE dead_letters(:'endpoint', :'big_tenant', now() - interval '5 days 7 hours', now() - interval '4 days 7 hours');

\echo '### 13. recover (deadLetters): an endpoint with a 6-hour outage, a one-day window -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE dead_letters(:'endpoint', :'big_tenant', now() - interval '5 days 7 hours', now() - interval '4 days 7 hours');

\echo '### 14. waker (toWake) -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE to_wake(now() - interval '2 seconds', 500, now() - interval '6 minutes', 500);

\echo '### 14. waker (toWake) -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE to_wake(now() - interval '2 seconds', 500, now() - interval '6 minutes', 500);

\echo '### 15. list: endpoint_id + a type this endpoint never gets -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint_type(:'big_tenant', :'endpoint', 'no.such.type', 21);

\echo '### 15. list: endpoint_id + a type this endpoint never gets -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint_type(:'big_tenant', :'endpoint', 'no.such.type', 21);

\echo '### 16. list: endpoint_id of ANOTHER tenant (any tenant may pass any endpoint id) -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint(:'small_tenant', :'endpoint', 21);

\echo '### 16. list: endpoint_id of ANOTHER tenant (any tenant may pass any endpoint id) -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint(:'small_tenant', :'endpoint', 21);

\echo '### 17. list: endpoint_id of another tenant + status=DELIVERED -- custom plan'
SET plan_cache_mode = force_custom_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint_status(:'small_tenant', :'endpoint', 'DELIVERED', 21);

\echo '### 17. list: endpoint_id of another tenant + status=DELIVERED -- generic plan'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE list_endpoint_status(:'small_tenant', :'endpoint', 'DELIVERED', 21);

RESET plan_cache_mode;

