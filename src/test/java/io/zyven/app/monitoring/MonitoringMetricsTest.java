package io.zyven.app.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.Await;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every metric the Grafana dashboard and the alert rules query is one a real node exposes at
 * GET /metrics (its HELP/TYPE lines count: a counter nothing has touched yet has no
 * sample). Besides Zyven's own, only Prometheus's {@code up} is allowed. The node has its
 * own PostgreSQL and a fast retention sweep, so the gauges of the last sweep are there.
 */
class MonitoringMetricsTest {
  /** Series Prometheus makes itself for every target. */
  private static final Set<String> PROMETHEUS_OWN = Set.of("up");
  private static final Set<String> HISTOGRAM_SUFFIXES = Set.of("_bucket", "_count", "_sum");

  private static TestPostgres pg;
  private static TestNode node;
  private static Set<String> exposed;
  /** Each metric family's TYPE (counter, gauge, histogram, ...). */
  private static Map<String, String> types;

  @BeforeAll
  static void scrapeARealNode() throws Exception {
    pg = TestPostgres.startPrivate();
    node = TestNode.start(pg, Map.of("zyven.retention.interval", "300ms"));
    Await.until(
        "a retention sweep shows in /metrics",
        Duration.ofSeconds(30),
        () -> node.api.get("/metrics", null).body().contains("zyven_retention_last_run_timestamp_seconds"));
    // A refused request, so that the problems counter has a sample (its labels come from what happens).
    node.api.get("/no-such-path", null);
    String text = node.api.get("/metrics", null).body();
    types = new java.util.TreeMap<>();
    Matcher type = Pattern.compile("(?m)^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\\w+)").matcher(text);
    while (type.find()) types.put(type.group(1), type.group(2));
    exposed = new TreeSet<>();
    Matcher help = Pattern.compile("(?m)^# (?:HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ").matcher(text);
    while (help.find()) exposed.add(help.group(1));
    Matcher sample = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]").matcher(text);
    while (sample.find()) exposed.add(sample.group(1));
    assertTrue(exposed.contains("zyven_events_accepted_total"), text);
    assertTrue(exposed.contains("zyven_readmodel_lag_seconds"), text);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) node.close();
    if (pg != null) pg.stop();
  }

  @Test
  void everyDashboardQueryNamesOnlyExposedMetrics() {
    List<Map.Entry<String, String>> queries = MonitoringFilesTest.dashboardQueries();
    assertFalse(queries.isEmpty(), "the dashboard has no queries");
    Set<String> used = new TreeSet<>();
    for (Map.Entry<String, String> q : queries) {
      Set<String> names = PromQl.metricNames(q.getValue());
      assertFalse(names.isEmpty(), q.getKey() + ": no metric in " + q.getValue());
      for (String name : names) {
        assertExposed(name, "dashboard panel \"" + q.getKey() + "\": " + q.getValue());
        used.add(family(name));
      }
    }
    assertEquals(exposedZyvenMetrics(), zyven(used), "the dashboard shows every metric family Zyven exposes");
  }

  @Test
  void everyAlertRuleNamesOnlyExposedMetrics() {
    for (Map<String, Object> rule : MonitoringFilesTest.rules()) {
      String expr = MonitoringFilesTest.str(rule.get("expr"));
      Set<String> names = PromQl.metricNames(expr);
      assertFalse(names.isEmpty(), rule.get("alert") + ": no metric in " + expr);
      for (String name : names) {
        assertExposed(name, "alert " + rule.get("alert") + ": " + expr);
      }
    }
  }

  @Test
  void theRulesUnitTestsFeedOnlyExposedSeries() {
    for (Object test : MonitoringFilesTest.asList(MonitoringFilesTest.yaml(MonitoringFilesTest.ALERT_TESTS).get("tests"), "tests")) {
      for (Object input : MonitoringFilesTest.asList(MonitoringFilesTest.asMap(test, "tests[]").get("input_series"), "input_series")) {
        String series = MonitoringFilesTest.str(MonitoringFilesTest.asMap(input, "input_series[]").get("series"));
        assertExposed(series.replaceAll("\\{.*$", "").trim(), "alerts_test.yml input series " + series);
      }
    }
  }

  private static void assertExposed(String name, String where) {
    if (PROMETHEUS_OWN.contains(name) || exposed.contains(name)) return;
    for (String suffix : HISTOGRAM_SUFFIXES) {
      if (name.endsWith(suffix) && exposed.contains(name.substring(0, name.length() - suffix.length()))) return;
    }
    throw new AssertionError(where + " uses " + name + ", which /metrics does not expose (it exposes " + exposed + ")");
  }

  /** Zyven's metric families: a histogram's _bucket, _count and _sum samples are its one family. */
  private static Set<String> exposedZyvenMetrics() {
    Set<String> families = new TreeSet<>();
    for (String name : exposed) families.add(family(name));
    return zyven(families);
  }

  private static String family(String name) {
    for (String suffix : HISTOGRAM_SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      String base = name.substring(0, name.length() - suffix.length());
      if (Set.of("histogram", "summary").contains(types.get(base))) return base;
    }
    return name;
  }

  private static Set<String> zyven(Set<String> names) {
    Set<String> z = new TreeSet<>();
    for (String n : names) if (n.startsWith("zyven_")) z.add(n);
    return z;
  }
}
