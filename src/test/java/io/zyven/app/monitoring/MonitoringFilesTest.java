package io.zyven.app.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The monitoring files, checked statically: the Grafana service, its provisioning and the
 * dashboard in docker-compose.yml; the alert rules Prometheus loads, each with a duration,
 * a severity and a summary; and promtool's own check of the rules and the config, and its
 * unit tests of the rules, deploy/prometheus/alerts_test.yml (skipped only where promtool is
 * not installed; .ci/run installs it).
 */
class MonitoringFilesTest {
  static final Path ROOT = Path.of(System.getProperty("basedir", "")).toAbsolutePath().normalize();
  static final Path DASHBOARD = ROOT.resolve("deploy/grafana/zyven.json");
  static final Path ALERTS = ROOT.resolve("deploy/prometheus/alerts.yml");
  static final Path ALERT_TESTS = ROOT.resolve("deploy/prometheus/alerts_test.yml");
  private static final ObjectMapper JSON = new ObjectMapper();

  // ---------------------------------------------------------------- promtool

  @Test
  void promtoolAcceptsTheRules() throws Exception {
    Result r = promtool("check", "rules", ALERTS.toString());
    assertEquals(0, r.exit(), "promtool check rules:\n" + r.output());
    assertTrue(r.output().contains("SUCCESS"), r.output());
  }

  @Test
  void promtoolUnitTestsOfTheRulesPass() throws Exception {
    Result r = promtool("test", "rules", ALERT_TESTS.toString());
    assertEquals(0, r.exit(), "promtool test rules:\n" + r.output());
    assertTrue(r.output().contains("SUCCESS"), r.output());
  }

  @Test
  void everyRuleHasAUnitTestInWhichItFires() {
    Set<String> firing = new TreeSet<>();
    for (Object test : asList(yaml(ALERT_TESTS).get("tests"), "tests")) {
      for (Object check : asList(asMap(test, "tests[]").get("alert_rule_test"), "alert_rule_test")) {
        Map<String, Object> c = asMap(check, "alert_rule_test[]");
        if (!asList(c.get("exp_alerts"), "exp_alerts").isEmpty()) firing.add(str(c.get("alertname")));
      }
    }
    Set<String> rules = new TreeSet<>(rules().stream().map(r -> str(r.get("alert"))).toList());
    assertEquals(rules, firing, "alerts_test.yml has a case where each rule fires");
  }

  @Test
  void promtoolAcceptsTheConfigAndTheRulesItLoads() throws Exception {
    Result r = promtool("check", "config", ROOT.resolve("deploy/prometheus.yml").toString());
    assertEquals(0, r.exit(), "promtool check config:\n" + r.output());
    assertTrue(r.output().contains(ALERTS.getFileName().toString()), "prometheus.yml does not load alerts.yml:\n" + r.output());
  }

  // ---------------------------------------------------------------- alert rules

  @Test
  void everyRuleHasADurationASeverityAndASummary() {
    List<Map<String, Object>> rules = rules();
    assertFalse(rules.isEmpty(), "no alert rules");
    Set<String> names = new HashSet<>();
    for (Map<String, Object> rule : rules) {
      String name = str(rule.get("alert"));
      assertNotNull(name, "a rule that is not an alert: " + rule);
      assertTrue(names.add(name), "two rules named " + name);
      assertNotNull(rule.get("for"), name + ": no for:");
      Map<String, Object> labels = asMap(rule.get("labels"), name + ".labels");
      assertTrue(Set.of("warning", "critical").contains(str(labels.get("severity"))), name + ": severity warning or critical");
      Map<String, Object> annotations = asMap(rule.get("annotations"), name + ".annotations");
      for (String key : List.of("summary", "description")) {
        assertFalse(str(annotations.getOrDefault(key, "")).isBlank(), name + ": no " + key);
      }
    }
  }

  @Test
  void theRulesCoverWhatOperatorsMustBeToldAbout() {
    String all = String.join("\n", rules().stream().map(r -> str(r.get("expr"))).toList());
    for (String needed :
        List.of(
            "up{job=\"zyven\"} == 0",
            "zyven_endpoints_disabled_total",
            "zyven_dead_letters_total",
            "zyven_ready == 0",
            "zyven_oldest_pending_delivery_age_seconds",
            "zyven_readmodel_lag_seconds",
            "zyven_events_accepted_total",
            "zyven_retention_")) {
      assertTrue(all.contains(needed), "no rule uses " + needed);
    }
  }

  @Test
  void prometheusLoadsTheRulesWhereComposeMountsThem() {
    Map<String, Object> config = yaml(ROOT.resolve("deploy/prometheus.yml"));
    List<Object> ruleFiles = asList(config.get("rule_files"), "rule_files");
    assertEquals(1, ruleFiles.size(), "rule_files");
    String ruleFile = str(ruleFiles.get(0));
    assertEquals(ALERTS, ROOT.resolve("deploy").resolve(ruleFile).normalize(), "rule_files resolves, next to prometheus.yml, to deploy/prometheus/alerts.yml");
    List<String> volumes = volumes("prometheus");
    assertTrue(volumes.contains("./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro"), "prometheus.yml mount: " + volumes);
    assertTrue(
        volumes.contains("./deploy/prometheus/alerts.yml:/etc/prometheus/" + ruleFile + ":ro"),
        "compose mounts alerts.yml where prometheus.yml looks for it (/etc/prometheus/" + ruleFile + "): " + volumes);
  }

  // ---------------------------------------------------------------- Grafana

  @Test
  void composeRunsGrafanaWithProvisioningMountedReadOnly() {
    Map<String, Object> grafana = services().get("grafana");
    assertNotNull(grafana, "docker-compose.yml has no grafana service");
    assertTrue(str(grafana.get("image")).startsWith("grafana/grafana"), "grafana/grafana image");
    assertTrue(asList(grafana.get("ports"), "grafana.ports").stream().map(MonitoringFilesTest::str).anyMatch(p -> p.equals("3000:3000")), "port 3000");
    Map<String, Object> env = asMap(grafana.get("environment"), "grafana.environment");
    assertEquals("true", str(env.get("GF_AUTH_ANONYMOUS_ENABLED")), "anonymous access");
    assertEquals("Viewer", str(env.get("GF_AUTH_ANONYMOUS_ORG_ROLE")), "anonymous users only view");

    List<String> volumes = volumes("grafana");
    assertTrue(volumes.contains("./deploy/grafana/provisioning:/etc/grafana/provisioning:ro"), "provisioning mounted read-only: " + volumes);
    Map<String, Object> provider =
        asMap(asList(yaml(ROOT.resolve("deploy/grafana/provisioning/dashboards/zyven.yml")).get("providers"), "providers").get(0), "providers[0]");
    String path = str(asMap(provider.get("options"), "providers[0].options").get("path"));
    assertTrue(
        volumes.contains("./deploy/grafana/zyven.json:" + path + "/zyven.json:ro"),
        "the dashboard is mounted read-only in the provider's folder " + path + ": " + volumes);
  }

  @Test
  void theDatasourceIsTheComposePrometheusAndTheDashboardUsesIt() throws IOException {
    Map<String, Object> ds =
        asMap(asList(yaml(ROOT.resolve("deploy/grafana/provisioning/datasources/prometheus.yml")).get("datasources"), "datasources").get(0), "datasources[0]");
    assertEquals("prometheus", str(ds.get("type")));
    assertEquals("http://prometheus:9090", str(ds.get("url")), "the compose service prometheus on its port");
    assertTrue(services().containsKey("prometheus"));
    String uid = str(ds.get("uid"));

    JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
    assertFalse(dashboard.path("title").asText().isBlank());
    List<JsonNode> panels = panels(dashboard);
    assertTrue(panels.size() >= 10, "the dashboard has only " + panels.size() + " panels");
    for (JsonNode panel : panels) {
      assertTrue(panel.path("targets").size() > 0, panel.path("title").asText() + ": no query");
      assertEquals(uid, panel.path("datasource").path("uid").asText(), panel.path("title").asText() + ": datasource");
      for (JsonNode target : panel.path("targets")) {
        assertFalse(target.path("expr").asText().isBlank(), panel.path("title").asText() + ": empty query");
        assertEquals(uid, target.path("datasource").path("uid").asText(), panel.path("title").asText() + ": target datasource");
      }
    }
  }

  // ---------------------------------------------------------------- shared with MonitoringMetricsTest

  /** The panels with queries, rows' nested panels included. */
  static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> found = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      if (panel.path("type").asText().equals("row")) {
        panel.path("panels").forEach(found::add);
      } else {
        found.add(panel);
      }
    }
    return found;
  }

  /** Every query of the dashboard, by panel title. */
  static List<Map.Entry<String, String>> dashboardQueries() {
    try {
      List<Map.Entry<String, String>> queries = new ArrayList<>();
      for (JsonNode panel : panels(JSON.readTree(DASHBOARD.toFile()))) {
        for (JsonNode target : panel.path("targets")) {
          queries.add(Map.entry(panel.path("title").asText(), target.path("expr").asText()));
        }
      }
      return queries;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Map<String, Object>> rules() {
    List<Map<String, Object>> rules = new ArrayList<>();
    for (Object group : asList(yaml(ALERTS).get("groups"), "groups")) {
      for (Object rule : asList(asMap(group, "group").get("rules"), "rules")) {
        rules.add(asMap(rule, "rule"));
      }
    }
    return rules;
  }

  record Result(int exit, String output) {}

  private static Result promtool(String... args) throws Exception {
    assumeTrue(
        Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
            .anyMatch(dir -> Files.isExecutable(Path.of(dir, "promtool"))),
        "promtool is not installed (Debian: apt-get install prometheus; .ci/run does)");
    List<String> command = new ArrayList<>(List.of("promtool"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
    assertTrue(p.waitFor(Duration.ofSeconds(60).toSeconds(), TimeUnit.SECONDS), "promtool did not finish");
    return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  private static Map<String, Map<String, Object>> services() {
    Map<String, Map<String, Object>> services = new java.util.LinkedHashMap<>();
    asMap(yaml(ROOT.resolve("docker-compose.yml")).get("services"), "services").forEach((k, v) -> services.put(k, asMap(v, k)));
    return services;
  }

  private static List<String> volumes(String service) {
    return asList(services().get(service).get("volumes"), service + ".volumes").stream().map(MonitoringFilesTest::str).toList();
  }

  static Map<String, Object> yaml(Path file) {
    try {
      return asMap(new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file)), ROOT.relativize(file).toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> asMap(Object o, String what) {
    assertTrue(o instanceof Map, what + " is not a mapping: " + o);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> asList(Object o, String what) {
    assertTrue(o instanceof List, what + " is not a list: " + o);
    return (List<Object>) o;
  }

  static String str(Object o) {
    return o == null ? null : String.valueOf(o);
  }
}
