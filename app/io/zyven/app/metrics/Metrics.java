package io.zyven.app.metrics;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * This node's metrics, exported at {@code GET /metrics} in the Prometheus text format, with
 * the Prometheus Java client (prometheus-metrics): counters and histograms that the code
 * observes as things happen, gauges read from the read model by one scheduled query per
 * node and served from a cache ({@link #readModel}), and the JVM, connection pools and
 * dispatchers read at scrape time. The README's "Metrics" table documents each one.
 *
 * <p>Label values are bounded: outcomes, status classes, problem types, states and causes
 * come from fixed sets in the code; endpoint ids only for the configured top N endpoints;
 * never an event id. The registry is one per JVM; a JVM runs one node (tests that start
 * several nodes in one JVM see their sum).
 */
public final class Metrics {
  private Metrics() {}

  private static final PrometheusRegistry REGISTRY = new PrometheusRegistry();
  /** Names used as label values by callers outside Zyven's fixed sets: lower-case words only. */
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_.-]{0,63}");

  // ---------------------------------------------------------------- counters

  private static final Counter EVENTS_ACCEPTED =
      counter("zyven_events_accepted", "Events accepted by ingest on this node.");
  private static final Counter DEFERRED =
      counter("zyven_deliveries_deferred", "Attempts deferred without being spent (circuit open, queue full).");
  private static final Counter ENDPOINTS_DISABLED =
      counter("zyven_endpoints_disabled", "Endpoints disabled by Zyven (410 Gone, or failing too long).");
  private static final Counter CIRCUITS_OPENED = counter("zyven_circuits_opened", "Endpoint circuit breakers opened.");
  private static final Counter INGEST_RATE_LIMITED =
      counter("zyven_ingest_rate_limited", "Ingest requests refused with 429 by an API key's rate limit on this node.");
  private static final Counter RETENTION_EVENTS_REMOVED =
      counter("zyven_retention_events_removed", "Finished events removed by retention on this node.");
  private static final Counter RETENTION_ROWS_REMOVED =
      counter(
          "zyven_retention_rows_removed",
          "Rows removed by retention on this node (journal, tags, snapshots, read model, attempts).");
  private static final Counter REPLAYS =
      counter("zyven_replays", "Deliveries sent back to DISPATCHING by an operator (replay, recover) on this node.");
  private static final Counter CANCELLED =
      counter("zyven_deliveries_cancelled", "Deliveries their endpoint's transformation cancelled (not sent, not failed) on this node.");
  private static final Counter WAKES =
      counter("zyven_waker_wakes", "Events the waker woke because a delivery of theirs was overdue in the read model.");

  /** What a webhook request's result means (DeliveryPolicy.Verdict, lower case). */
  public static final List<String> OUTCOMES = List.of("success", "retryable", "permanent", "gone");

  private static final Counter ATTEMPTS =
      Counter.builder()
          .name("zyven_delivery_attempts")
          .help("Webhook requests sent by this node, by outcome and by the response's status class (none: no response).")
          .labelNames("outcome", "status_class")
          .register(REGISTRY);

  /** Why a delivery was dead-lettered. */
  public static final List<String> DEAD_LETTER_CAUSES = List.of("permanent", "gone", "exhausted", "refused", "expunged", "transformation");

  private static final Counter DEAD_LETTERS =
      Counter.builder()
          .name("zyven_dead_letters")
          .help(
              "Deliveries dead-lettered on this node, by cause: permanent (a 4xx), gone (410), exhausted (out of"
                  + " attempts), refused (endpoint deleted or disabled), expunged (payload expunged),"
                  + " transformation (the endpoint's transformation failed).")
          .labelNames("cause")
          .register(REGISTRY);

  private static final Counter PROBLEMS =
      Counter.builder()
          .name("zyven_http_problems")
          .help("Requests this node refused or failed: problem+json responses by status code and problem type.")
          .labelNames("status", "type")
          .register(REGISTRY);

  /** The operational event types (DESIGN §7); others are counted as they come, if well-formed. */
  public static final List<String> OPERATIONAL_EVENT_TYPES =
      List.of(
          "endpoint.disabled", "endpoint.enabled", "endpoint.circuit_opened", "endpoint.circuit_closed",
          "delivery.dead_lettered");

  private static final Counter OPERATIONAL_EVENTS =
      Counter.builder()
          .name("zyven_operational_events")
          .help("Operational events raised on this node, by type.")
          .labelNames("type")
          .register(REGISTRY);

  private static final Counter VERIFICATIONS =
      Counter.builder()
          .name("zyven_endpoint_verifications")
          .help("Endpoint verifications (challenge-response) finished by this node, by outcome: passed, failed.")
          .labelNames("outcome")
          .register(REGISTRY);

  public static final List<String> ALERT_KINDS = List.of("webhook", "slack", "pagerduty", "email");
  public static final List<String> ALERT_OUTCOMES = List.of("sent", "failed");

  private static final Counter ALERTS_SENT =
      Counter.builder()
          .name("zyven_alerts_sent")
          .help("Alerts sent by this node to alert channels, by channel kind and outcome (sent, failed).")
          .labelNames("kind", "outcome")
          .register(REGISTRY);

  /** The unlabelled counters by their exposed name, for {@link #increment(String)} and {@link #add}. */
  private static final Map<String, Counter> BY_NAME =
      Map.of(
          "zyven_events_accepted_total", EVENTS_ACCEPTED,
          "zyven_deliveries_deferred_total", DEFERRED,
          "zyven_endpoints_disabled_total", ENDPOINTS_DISABLED,
          "zyven_circuits_opened_total", CIRCUITS_OPENED,
          "zyven_ingest_rate_limited_total", INGEST_RATE_LIMITED,
          "zyven_retention_events_removed_total", RETENTION_EVENTS_REMOVED,
          "zyven_retention_rows_removed_total", RETENTION_ROWS_REMOVED,
          "zyven_replays_total", REPLAYS,
          "zyven_waker_wakes_total", WAKES);

  // ---------------------------------------------------------------- histograms

  private static final Histogram INGEST_LATENCY =
      Histogram.builder()
          .name("zyven_ingest_latency_seconds")
          .help("Time from a POST /v1/events request to its answer on this node, by the answer's status class.")
          .labelNames("status_class")
          .classicOnly()
          .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
          .register(REGISTRY);

  private static final Histogram ATTEMPT_LATENCY =
      Histogram.builder()
          .name("zyven_delivery_attempt_latency_seconds")
          .help("Time a webhook request took, from sending it to its response (or failure), by outcome.")
          .labelNames("outcome")
          .classicOnly()
          .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
          .register(REGISTRY);

  private static final Histogram ACCEPT_TO_DELIVERED =
      Histogram.builder()
          .name("zyven_delivery_accept_to_delivered_seconds")
          .help("Time from an event's acceptance to the 2xx that delivered it to an endpoint, retries included.")
          .classicOnly()
          .classicUpperBounds(
              0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 10800, 21600, 43200, 86400,
              259200)
          .register(REGISTRY);

  // ---------------------------------------------------------------- gauges (cached, from the read model)

  /** Deliveries by state, from the read model: the unfinished states and DEAD_LETTERED (see the README). */
  public static final List<String> GAUGED_STATES = List.of("RECEIVED", "DISPATCHING", "RETRY_SCHEDULED", "DEAD_LETTERED");

  /** Unfinished deliveries and dead letters, read from the read model. */
  public record Backlog(
      Map<String, Long> byState, Instant oldestPendingSince, Map<String, Long> topEndpoints, long otherEndpoints) {}

  public record Lag(long events, double seconds) {}

  public record Retention(Instant lastRunAt, long lastRunRemoved, Instant oldestEventAt) {}

  /**
   * What the last refresh found; a part is null when its query failed (its gauges are then
   * left out rather than shown stale). {@code owner} is the node's refresher.
   */
  public record ReadModel(
      Object owner, boolean ready, Backlog backlog, Long circuitsOpen, Lag lag, Retention retention) {}

  private static final AtomicReference<ReadModel> READ_MODEL = new AtomicReference<>();

  /** The refresher of a node publishes what it read; a scrape serves it without querying. */
  public static void readModel(ReadModel view) {
    READ_MODEL.set(view);
  }

  /** A stopping node's refresher withdraws its figures (if no other node has published since). */
  public static void forgetReadModel(Object owner) {
    READ_MODEL.updateAndGet(v -> v != null && v.owner() == owner ? null : v);
  }

  static {
    GaugeWithCallback.builder()
        .name("zyven_ready")
        .help("1 when this node is ready (an Up cluster member whose PostgreSQL answers), as of the last refresh; else 0.")
        .callback(cb -> {
          ReadModel v = READ_MODEL.get();
          cb.call(v != null && v.ready() ? 1 : 0);
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_deliveries")
        .help("Deliveries in each unfinished state, and dead-lettered ones, in the read model.")
        .labelNames("state")
        .callback(cb -> {
          Backlog b = backlog();
          if (b != null) GAUGED_STATES.forEach(s -> cb.call(b.byState().getOrDefault(s, 0L), s));
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_oldest_pending_delivery_age_seconds")
        .help("Time since the oldest unfinished delivery's event was accepted (0 when none is unfinished).")
        .callback(cb -> {
          Backlog b = backlog();
          if (b != null) cb.call(ageSeconds(b.oldestPendingSince()));
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_endpoint_queue_depth")
        .help(
            "Unfinished deliveries per endpoint in the read model: the top N endpoints by their own id,"
                + " the rest summed as endpoint=\"other\".")
        .labelNames("endpoint")
        .callback(cb -> {
          Backlog b = backlog();
          if (b == null) return;
          b.topEndpoints().forEach((endpoint, depth) -> cb.call(depth, endpoint));
          cb.call(b.otherEndpoints(), "other");
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_circuits_open")
        .help("Enabled endpoints whose circuit breaker is open, in the read model.")
        .callback(cb -> {
          ReadModel v = READ_MODEL.get();
          if (v != null && v.circuitsOpen() != null) cb.call(v.circuitsOpen());
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_readmodel_lag_events")
        .help("Journaled events the read model has not projected yet.")
        .callback(cb -> {
          Lag lag = lag();
          if (lag != null) cb.call(lag.events());
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_readmodel_lag_seconds")
        .help("Age of the oldest event the read model has not projected yet.")
        .callback(cb -> {
          Lag lag = lag();
          if (lag != null) cb.call(lag.seconds());
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_retention_last_run_timestamp_seconds")
        .help("When the last retention sweep ended (Unix time).")
        .callback(cb -> {
          Retention r = retention();
          if (r != null) cb.call(r.lastRunAt().toEpochMilli() / 1000.0);
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_retention_last_run_events_removed")
        .help("Events the last retention sweep removed.")
        .callback(cb -> {
          Retention r = retention();
          if (r != null) cb.call(r.lastRunRemoved());
        })
        .register(REGISTRY);
    GaugeWithCallback.builder()
        .name("zyven_retention_oldest_event_age_seconds")
        .help("Age of the oldest event kept, as of the last retention sweep (0 when none is).")
        .callback(cb -> {
          Retention r = retention();
          if (r != null) cb.call(ageSeconds(r.oldestEventAt()));
        })
        .register(REGISTRY);
  }

  private static Backlog backlog() {
    ReadModel v = READ_MODEL.get();
    return v == null ? null : v.backlog();
  }

  private static Lag lag() {
    ReadModel v = READ_MODEL.get();
    return v == null ? null : v.lag();
  }

  private static Retention retention() {
    ReadModel v = READ_MODEL.get();
    return v == null ? null : v.retention();
  }

  private static double ageSeconds(Instant since) {
    return since == null ? 0 : Math.max(0, (System.currentTimeMillis() - since.toEpochMilli()) / 1000.0);
  }

  // ---------------------------------------------------------------- JVM, connection pools, dispatchers

  private static final Map<String, HikariDataSource> POOLS = new ConcurrentHashMap<>();
  private static final Map<String, ForkJoinPool> DISPATCHERS = new ConcurrentHashMap<>();

  static {
    JvmMetrics.builder().register(REGISTRY);
    poolGauge("hikaricp_connections_active", "Connections in use, per pool (readmodel, journal).", HikariPoolMXBean::getActiveConnections);
    poolGauge("hikaricp_connections_idle", "Idle connections, per pool.", HikariPoolMXBean::getIdleConnections);
    poolGauge("hikaricp_connections_pending", "Threads waiting for a connection, per pool.", HikariPoolMXBean::getThreadsAwaitingConnection);
    GaugeWithCallback.builder()
        .name("hikaricp_connections_max")
        .help("The most connections a pool opens.")
        .labelNames("pool")
        .callback(cb -> POOLS.forEach((name, ds) -> cb.call(ds.getMaximumPoolSize(), name)))
        .register(REGISTRY);
    dispatcherGauge("pekko_dispatcher_parallelism", "Target parallelism of a Pekko dispatcher's fork-join pool.", ForkJoinPool::getParallelism);
    dispatcherGauge("pekko_dispatcher_pool_size_threads", "Threads started by a Pekko dispatcher's pool.", ForkJoinPool::getPoolSize);
    dispatcherGauge("pekko_dispatcher_active_threads", "Threads of a Pekko dispatcher running or stealing tasks.", ForkJoinPool::getActiveThreadCount);
    dispatcherGauge(
        "pekko_dispatcher_queued_tasks",
        "Tasks waiting in a Pekko dispatcher's queues (submitted and forked): work that has no thread yet.",
        p -> p.getQueuedSubmissionCount() + p.getQueuedTaskCount());
  }

  private interface PoolFigure {
    long of(HikariPoolMXBean pool);
  }

  private interface DispatcherFigure {
    long of(ForkJoinPool pool);
  }

  private static void poolGauge(String name, String help, PoolFigure figure) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .labelNames("pool")
        .callback(cb -> POOLS.forEach((pool, ds) -> {
          HikariPoolMXBean bean = ds.getHikariPoolMXBean();
          if (bean != null) cb.call(figure.of(bean), pool);
        }))
        .register(REGISTRY);
  }

  private static void dispatcherGauge(String name, String help, DispatcherFigure figure) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .labelNames("dispatcher")
        .callback(cb -> DISPATCHERS.forEach((dispatcher, pool) -> cb.call(figure.of(pool), dispatcher)))
        .register(REGISTRY);
  }

  /** A HikariCP pool shown as {@code hikaricp_connections_*{pool=name}} until {@link #forget}. */
  public static void connectionPool(String name, HikariDataSource pool) {
    POOLS.put(name, pool);
  }

  /** A dispatcher's fork-join pool shown as {@code pekko_dispatcher_*{dispatcher=name}} until {@link #forget}. */
  public static void dispatcher(String name, ForkJoinPool pool) {
    DISPATCHERS.put(name, pool);
  }

  /** A stopping node's pools and dispatchers go (those of another node in this JVM stay). */
  public static void forget(Set<Object> pools) {
    POOLS.values().removeIf(pools::contains);
    DISPATCHERS.values().removeIf(pools::contains);
  }

  // ---------------------------------------------------------------- initial values

  static {
    // Every known series starts at 0, so that rate() and increase() see its first increment.
    OUTCOMES.forEach(o -> ATTEMPT_LATENCY.initLabelValues(o));
    ATTEMPTS.initLabelValues("success", "2xx");
    for (String statusClass : List.of("3xx", "4xx", "5xx", "none")) ATTEMPTS.initLabelValues("retryable", statusClass);
    ATTEMPTS.initLabelValues("permanent", "4xx");
    ATTEMPTS.initLabelValues("gone", "4xx");
    DEAD_LETTER_CAUSES.forEach(c -> DEAD_LETTERS.initLabelValues(c));
    OPERATIONAL_EVENT_TYPES.forEach(t -> OPERATIONAL_EVENTS.initLabelValues(t));
    for (String kind : ALERT_KINDS) for (String outcome : ALERT_OUTCOMES) ALERTS_SENT.initLabelValues(kind, outcome);
    VERIFICATIONS.initLabelValues("passed");
    VERIFICATIONS.initLabelValues("failed");
    for (String statusClass : List.of("2xx", "4xx", "5xx")) INGEST_LATENCY.initLabelValues(statusClass);
  }

  private static Counter counter(String name, String help) {
    return Counter.builder().name(name).help(help).register(REGISTRY);
  }

  // ---------------------------------------------------------------- observing

  /** Adds one to an unlabelled counter, by its exposed name (e.g. {@code zyven_events_accepted_total}). */
  public static void increment(String name) {
    add(name, 1);
  }

  /** Adds {@code n} to an unlabelled counter, by its exposed name. */
  public static void add(String name, long n) {
    Counter counter = BY_NAME.get(name);
    if (counter == null) throw new IllegalArgumentException("no such counter: " + name);
    counter.inc(n);
  }

  /** A webhook request's result: its outcome (a {@link #OUTCOMES} value), status code (null: none) and latency. */
  public static void attempt(String outcome, Integer statusCode, long latencyMs) {
    String o = OUTCOMES.contains(outcome) ? outcome : "other";
    ATTEMPTS.labelValues(o, statusClass(statusCode)).inc();
    ATTEMPT_LATENCY.labelValues(o).observe(Math.max(0, latencyMs) / 1000.0);
  }

  /** A delivery reached DELIVERED this long after its event was accepted. */
  public static void delivered(Duration sinceAccepted) {
    ACCEPT_TO_DELIVERED.observe(Math.max(0, sinceAccepted.toNanos()) / 1e9);
  }

  /** A delivery was dead-lettered, for one of {@link #DEAD_LETTER_CAUSES}. */
  public static void deadLettered(String cause) {
    DEAD_LETTERS.labelValues(DEAD_LETTER_CAUSES.contains(cause) ? cause : "other").inc();
  }

  /** A delivery was sent back to DISPATCHING by an operator. */
  public static void replayed() {
    REPLAYS.inc();
  }

  /** A delivery's transformation cancelled it. */
  public static void cancelled() {
    CANCELLED.inc();
  }

  /** An endpoint's verification finished: it echoed its challenge, or it did not. */
  public static void verification(boolean passed) {
    VERIFICATIONS.labelValues(passed ? "passed" : "failed").inc();
  }

  /** The waker woke {@code n} events. */
  public static void wakes(int n) {
    WAKES.inc(n);
  }

  /** An operational event was raised (e.g. {@code endpoint.disabled}). */
  public static void operationalEvent(String type) {
    OPERATIONAL_EVENTS.labelValues(bounded(type)).inc();
  }

  /** An alert went to a channel of this kind ({@code webhook}, {@code slack}, …): {@code sent} or {@code failed}. */
  public static void alertSent(String kind, String outcome) {
    ALERTS_SENT.labelValues(bounded(kind), bounded(outcome)).inc();
  }

  /**
   * An HTTP response of this node: a problem (status 400 and up) counts by status and
   * problem type ({@code none} when it is not a problem+json); an answer to ingest also
   * counts in the ingest latency.
   */
  public static void httpResponse(boolean ingest, int status, String problemType, long elapsedNanos) {
    if (ingest) INGEST_LATENCY.labelValues(statusClass(status)).observe(Math.max(0, elapsedNanos) / 1e9);
    if (status >= 400 && status <= 599) {
      PROBLEMS.labelValues(Integer.toString(status), problemType == null ? "none" : bounded(problemType)).inc();
    }
  }

  private static String bounded(String name) {
    return name != null && NAME.matcher(name).matches() ? name : "other";
  }

  static String statusClass(Integer status) {
    if (status == null) return "none";
    return status >= 100 && status <= 599 ? (status / 100) + "xx" : "other";
  }

  // ---------------------------------------------------------------- exposition

  private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

  /** Every metric, with HELP and TYPE lines, in the text exposition format (0.0.4). */
  public static byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    try {
      TEXT.write(out, REGISTRY.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
