package io.zyven.app.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * This node's counters, exported at {@code GET /metrics} in the Prometheus text format.
 * Counters only grow; Prometheus sums them across nodes.
 */
public final class Metrics {
  private Metrics() {}

  private static final Map<String, String> HELP = Map.of(
      "zyven_events_accepted_total", "Events accepted by ingest on this node.",
      "zyven_delivery_attempts_total", "Webhook requests sent by this node, by outcome.",
      "zyven_deliveries_deferred_total", "Attempts deferred without being spent (circuit open, queue full).",
      "zyven_endpoints_disabled_total", "Endpoints disabled by Zyven (410 Gone, or failing too long).",
      "zyven_circuits_opened_total", "Endpoint circuit breakers opened.",
      "zyven_ingest_rate_limited_total", "Ingest requests refused with 429 by an API key's rate limit on this node.",
      "zyven_retention_events_removed_total", "Finished events removed by retention on this node.",
      "zyven_retention_rows_removed_total",
          "Rows removed by retention on this node (journal, tags, snapshots, read model, attempts).");

  private static final Map<String, LongAdder> COUNTERS = new ConcurrentHashMap<>();

  /** Adds one to a counter; {@code labels} is empty or Prometheus label text like {@code outcome="success"}. */
  public static void increment(String name, String labels) {
    COUNTERS.computeIfAbsent(labels.isEmpty() ? name : name + "{" + labels + "}", k -> new LongAdder()).increment();
  }

  public static void increment(String name) {
    increment(name, "");
  }

  /** Adds {@code n} to an unlabelled counter. */
  public static void add(String name, long n) {
    COUNTERS.computeIfAbsent(name, k -> new LongAdder()).add(n);
  }

  /** Every counter, with HELP and TYPE lines, in the text exposition format. */
  public static String scrape() {
    Map<String, Long> values = new TreeMap<>();
    COUNTERS.forEach((k, v) -> values.put(k, v.sum()));
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, String> help : new TreeMap<>(HELP).entrySet()) {
      out.append("# HELP ").append(help.getKey()).append(' ').append(help.getValue()).append('\n');
      out.append("# TYPE ").append(help.getKey()).append(" counter\n");
      boolean any = false;
      for (Map.Entry<String, Long> v : values.entrySet()) {
        if (v.getKey().equals(help.getKey()) || v.getKey().startsWith(help.getKey() + "{")) {
          out.append(v.getKey()).append(' ').append(v.getValue()).append('\n');
          any = true;
        }
      }
      if (!any && !help.getKey().equals("zyven_delivery_attempts_total")) out.append(help.getKey()).append(" 0\n");
    }
    return out.toString();
  }
}
