package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The deployment files (docker-compose.yml, deploy/Dockerfile, deploy/prometheus.yml,
 * .dockerignore), checked statically: no container engine runs where the tests run. What
 * the app reads (its ZYVEN_* variables and their defaults) is taken from the app's own
 * config and sources, so these checks follow the app rather than a copy of it.
 */
class DeploymentFilesTest {
  /** The actor system is named zyven: seed node addresses depend on it. */
  private static final String ACTOR_SYSTEM = "zyven";
  private static final String POSTGRES = "postgres";
  private static final String PROMETHEUS = "prometheus";
  private static final List<String> NODE_NAMES = List.of("zyven-1", "zyven-2", "zyven-3");

  private static final Path ROOT = Path.of(System.getProperty("basedir", "")).toAbsolutePath().normalize();

  private static Set<String> appVariables;
  private static int defaultHttpPort;
  private static int defaultClusterPort;
  private static Map<String, Map<String, Object>> services;
  /** The services that run Zyven (built from deploy/Dockerfile or running the zyven image), by name. */
  private static Map<String, Node> nodes;

  /** A Zyven service: its Compose definition and its environment, interpolated ({@link #env}) and as written. */
  record Node(String name, Map<String, Object> service, Map<String, String> env, Map<String, String> rawEnv) {
    String raw(String key) {
      return rawEnv.get(key);
    }

    int httpPort() {
      return env.containsKey("ZYVEN_HTTP_PORT") ? Integer.parseInt(env.get("ZYVEN_HTTP_PORT")) : defaultHttpPort;
    }

    int clusterPort() {
      return env.containsKey("ZYVEN_CLUSTER_PORT")
          ? Integer.parseInt(env.get("ZYVEN_CLUSTER_PORT"))
          : defaultClusterPort;
    }
  }

  @BeforeAll
  static void load() throws IOException {
    appVariables = variablesTheAppReads();
    Config defaults = appDefaults();
    defaultHttpPort = defaults.getInt("zyven.http.port");
    defaultClusterPort = defaults.getInt("pekko.remote.artery.canonical.port");

    Map<String, Object> compose = yaml(ROOT.resolve("docker-compose.yml"));
    services = new LinkedHashMap<>();
    asMap(compose.get("services"), "services").forEach((name, s) -> services.put(name, asMap(s, name)));

    nodes = new LinkedHashMap<>();
    services.forEach(
        (name, s) -> {
          if (runsZyven(s)) {
            nodes.put(name, new Node(name, s, environment(s, name), rawEnvironment(s, name)));
          }
        });
  }

  // ---------------------------------------------------------------- docker-compose.yml

  @Test
  void composeHasPostgresThreeZyvenNodesAndPrometheus() {
    for (String name : List.of(POSTGRES, PROMETHEUS)) {
      assertTrue(services.containsKey(name), "docker-compose.yml has no service " + name);
    }
    for (String name : NODE_NAMES) {
      assertTrue(services.containsKey(name), "docker-compose.yml has no service " + name);
      assertTrue(nodes.containsKey(name), name + " does not run Zyven (zyven image or deploy/Dockerfile)");
    }
    assertTrue(str(services.get(POSTGRES).get("image")).matches("postgres:1[56]([.-].*)?"), "postgres:15 or 16");
    assertTrue(str(services.get(PROMETHEUS).get("image")).startsWith("prom/prometheus"), "prom/prometheus");
  }

  @Test
  void theImageIsBuiltFromDeployDockerfileAtTheRepositoryRoot() {
    List<String> builders = new ArrayList<>();
    for (Node node : nodes.values()) {
      Object build = node.service().get("build");
      if (build == null) {
        String image = str(node.service().get("image"));
        assertTrue(
            nodes.values().stream()
                .anyMatch(n -> n.service().get("build") != null && image.equals(str(n.service().get("image")))),
            node.name() + " runs " + image + ", which no service builds");
        continue;
      }
      builders.add(node.name());
      Map<String, Object> b = build instanceof String s ? Map.of("context", s) : asMap(build, node.name() + ".build");
      assertEquals(ROOT, ROOT.resolve(str(b.get("context"))).normalize(), node.name() + ": build context is the repository root");
      assertEquals("deploy/Dockerfile", str(b.getOrDefault("dockerfile", "Dockerfile")), node.name() + ": dockerfile");
    }
    assertFalse(builders.isEmpty(), "no Zyven service has a build section");
    Set<String> builtTags = builders.stream().map(n -> str(nodes.get(n).service().get("image"))).collect(Collectors.toSet());
    assertEquals(builders.size(), builtTags.size(), "services building the same tag collide in parallel builds: " + builders);
  }

  @Test
  void composeSetsOnlyVariablesTheAppReads() throws IOException {
    assertTrue(
        appVariables.containsAll(
            Set.of("ZYVEN_HTTP_PORT", "ZYVEN_CLUSTER_HOST", "ZYVEN_CLUSTER_PORT", "ZYVEN_SEED_NODES", "ZYVEN_DB_URL", "ZYVEN_ADMIN_KEY")),
        "the app no longer reads a variable these checks rely on; found only " + appVariables);
    for (String name : services.keySet()) {
      for (String key : environment(services.get(name), name).keySet()) {
        if (key.startsWith("ZYVEN_")) {
          assertTrue(appVariables.contains(key), name + " sets " + key + ", which the app never reads (it reads " + appVariables + ")");
        }
      }
    }
    for (String key : dockerfileEnvKeys()) {
      if (key.startsWith("ZYVEN_")) {
        assertTrue(appVariables.contains(key), "deploy/Dockerfile sets " + key + ", which the app never reads");
      }
    }
  }

  @Test
  void eachNodeAdvertisesItsOwnServiceName() {
    Set<String> hosts = new HashSet<>();
    for (Node node : nodes.values()) {
      String host = node.env().get("ZYVEN_CLUSTER_HOST");
      assertEquals(node.name(), host, node.name() + ": ZYVEN_CLUSTER_HOST must be the service name, the address the others reach");
      Object hostname = node.service().get("hostname");
      if (hostname != null) {
        assertEquals(node.name(), str(hostname), node.name() + ": hostname");
      }
      assertTrue(hosts.add(host), "two nodes advertise " + host);
    }
  }

  @Test
  void seedNodesAreZyvenNodesAtTheirAdvertisedAddress() {
    Pattern seed = Pattern.compile("pekko://([^@/]+)@([^:/]+):(\\d+)");
    Set<String> firstSeeds = new TreeSet<>();
    for (Node node : nodes.values()) {
      String list = node.env().getOrDefault("ZYVEN_SEED_NODES", "");
      List<String> seeds = Stream.of(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
      assertFalse(seeds.isEmpty(), node.name() + " has no ZYVEN_SEED_NODES: it would form a cluster of its own");
      firstSeeds.add(seeds.get(0));
      for (String address : seeds) {
        Matcher m = seed.matcher(address);
        assertTrue(m.matches(), node.name() + ": seed node " + address + " is not pekko://system@host:port");
        assertEquals(ACTOR_SYSTEM, m.group(1), node.name() + ": seed node " + address + " names another actor system");
        Node target = nodes.get(m.group(2));
        assertNotNull(target, node.name() + ": seed node " + address + " is not a Zyven service");
        assertEquals(m.group(2), target.env().get("ZYVEN_CLUSTER_HOST"), address + ": that node advertises another host");
        assertEquals(target.clusterPort(), Integer.parseInt(m.group(3)), address + ": that node's remoting port");
      }
    }
    // Only a node that is the first seed in its own list may form a new cluster: with one
    // first seed everywhere, there is never more than one cluster.
    assertEquals(1, firstSeeds.size(), "the nodes disagree on the first seed node: " + firstSeeds);
  }

  @Test
  void everyNodeUsesThePostgresService() {
    Map<String, Object> postgres = services.get(POSTGRES);
    Map<String, String> pgEnv = environment(postgres, POSTGRES);
    Pattern jdbc = Pattern.compile("jdbc:postgresql://([^:/?]+)(?::(\\d+))?/([^?]+)(\\?.*)?");
    for (Node node : nodes.values()) {
      String url = node.env().getOrDefault("ZYVEN_DB_URL", "");
      Matcher m = jdbc.matcher(url);
      assertTrue(m.matches(), node.name() + ": ZYVEN_DB_URL " + url + " is not a PostgreSQL JDBC URL (without it, the node embeds its own)");
      assertEquals(POSTGRES, m.group(1), node.name() + ": ZYVEN_DB_URL host");
      assertEquals(5432, m.group(2) == null ? 5432 : Integer.parseInt(m.group(2)), node.name() + ": ZYVEN_DB_URL port");
      assertEquals(pgEnv.getOrDefault("POSTGRES_DB", pgEnv.get("POSTGRES_USER")), m.group(3), node.name() + ": database");
      assertEquals(pgEnv.get("POSTGRES_USER"), node.env().get("ZYVEN_DB_USER"), node.name() + ": ZYVEN_DB_USER");
      assertEquals(pgEnv.get("POSTGRES_PASSWORD"), node.env().get("ZYVEN_DB_PASSWORD"), node.name() + ": ZYVEN_DB_PASSWORD");

      Map<String, Object> dependsOn = asMap(node.service().get("depends_on"), node.name() + ".depends_on");
      assertEquals(
          "service_healthy",
          str(asMap(dependsOn.get(POSTGRES), node.name() + ".depends_on.postgres").get("condition")),
          node.name() + " must wait for postgres to be healthy");
    }
    assertTrue(healthcheckCommand(postgres, POSTGRES).contains("pg_isready"), "postgres healthcheck uses pg_isready");
    assertEquals("zyven", pgEnv.get("POSTGRES_USER"));
    assertEquals("zyven", pgEnv.get("POSTGRES_PASSWORD"));
    assertEquals("zyven", pgEnv.get("POSTGRES_DB"));

    Map<String, Object> volumes = asMap(yaml(ROOT.resolve("docker-compose.yml")).get("volumes"), "volumes");
    boolean namedData =
        asList(postgres.get("volumes"), "postgres.volumes").stream()
            .map(DeploymentFilesTest::str)
            .anyMatch(v -> v.endsWith(":/var/lib/postgresql/data") && volumes.containsKey(v.substring(0, v.indexOf(':'))));
    assertTrue(namedData, "postgres keeps /var/lib/postgresql/data in a named volume");
  }

  @Test
  void nodesShareOneAdminKey() {
    Set<String> raw = nodes.values().stream().map(n -> n.raw("ZYVEN_ADMIN_KEY")).collect(Collectors.toSet());
    assertEquals(1, raw.size(), "the nodes have different ZYVEN_ADMIN_KEY settings: " + raw);
    for (Node node : nodes.values()) {
      assertFalse(node.env().getOrDefault("ZYVEN_ADMIN_KEY", "").isBlank(), node.name() + ": ZYVEN_ADMIN_KEY is empty (each node would make up its own)");
    }
  }

  @Test
  void nodesArePublishedHealthCheckedAndStoppedGracefully() throws IOException {
    Set<Integer> hostPorts = new HashSet<>();
    String runtimeStage = String.join("\n", dockerStages().get(dockerStages().size() - 1).lines());
    Pattern ready = Pattern.compile("https?://[^/\\s:]+(?::(\\d+))?/health/ready");
    for (Node node : nodes.values()) {
      Integer published = null;
      for (Object port : asList(node.service().get("ports"), node.name() + ".ports")) {
        int[] mapping = portMapping(port);
        if (mapping[1] == node.httpPort()) {
          published = mapping[0];
        }
      }
      assertNotNull(published, node.name() + " does not publish its HTTP port " + node.httpPort());
      assertTrue(hostPorts.add(published), "host port " + published + " is published twice");

      String check = healthcheckCommand(node.service(), node.name());
      Matcher m = ready.matcher(check);
      assertTrue(m.find(), node.name() + ": the healthcheck does not call /health/ready: " + check);
      assertEquals(node.httpPort(), m.group(1) == null ? 80 : Integer.parseInt(m.group(1)), node.name() + ": healthcheck port");
      String tool = check.contains("curl") ? "curl" : check.contains("wget") ? "wget" : null;
      assertNotNull(tool, node.name() + ": healthcheck with curl or wget");
      assertTrue(runtimeStage.contains(tool), "the runtime stage of deploy/Dockerfile does not mention " + tool + ", which the healthcheck needs");

      Object grace = node.service().get("stop_grace_period");
      assertNotNull(grace, node.name() + ": stop_grace_period (the 10 s default is too short to leave the cluster and hand over)");
      assertTrue(
          composeDuration(str(grace)).compareTo(Duration.ofSeconds(30)) >= 0,
          node.name() + ": stop_grace_period " + grace + " is too short to hand shards over");
    }
  }

  // ---------------------------------------------------------------- deploy/prometheus.yml

  @Test
  void prometheusScrapesExactlyTheZyvenNodes() {
    Map<String, Object> prometheus = services.get(PROMETHEUS);
    boolean mounted =
        asList(prometheus.get("volumes"), "prometheus.volumes").stream()
            .map(DeploymentFilesTest::str)
            .anyMatch(v -> v.startsWith("./deploy/prometheus.yml:/etc/prometheus/prometheus.yml"));
    assertTrue(mounted, "prometheus mounts ./deploy/prometheus.yml as /etc/prometheus/prometheus.yml");
    assertTrue(
        asList(prometheus.get("ports"), "prometheus.ports").stream().anyMatch(p -> portMapping(p)[0] == 9090),
        "prometheus is published on 9090");

    Map<String, Object> config = yaml(ROOT.resolve("deploy/prometheus.yml"));
    Map<String, Object> global = config.containsKey("global") ? asMap(config.get("global"), "global") : Map.of();
    Set<String> targets = new TreeSet<>();
    for (Object o : asList(config.get("scrape_configs"), "scrape_configs")) {
      Map<String, Object> job = asMap(o, "scrape_configs[]");
      String name = str(job.get("job_name"));
      assertEquals("/metrics", str(job.getOrDefault("metrics_path", "/metrics")), name + ": metrics_path");
      Object interval = job.getOrDefault("scrape_interval", global.get("scrape_interval"));
      assertNotNull(interval, name + ": no scrape_interval (Prometheus's default is 1m)");
      assertEquals(Duration.ofSeconds(15), composeDuration(str(interval)), name + ": scrape_interval");
      for (Object sc : asList(job.get("static_configs"), name + ".static_configs")) {
        for (Object t : asList(asMap(sc, name + ".static_configs[]").get("targets"), name + ".targets")) {
          assertTrue(targets.add(str(t)), "target " + t + " is scraped twice");
        }
      }
    }
    Set<String> expected = nodes.values().stream().map(n -> n.name() + ":" + n.httpPort()).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(expected, targets, "Prometheus targets are the Zyven services on their HTTP port");
  }

  // ---------------------------------------------------------------- deploy/Dockerfile

  record Stage(String image, String name, List<String> lines) {}

  @Test
  void dockerfileBuildsTheJarAndRunsItAsANonRootUser() throws IOException {
    List<Stage> stages = dockerStages();
    assertTrue(stages.size() >= 2, "deploy/Dockerfile is multi-stage");
    Stage runtime = stages.get(stages.size() - 1);

    Stage build = null;
    for (Stage stage : stages.subList(0, stages.size() - 1)) {
      for (String line : stage.lines()) {
        List<String> words = List.of(line.split("\\s+"));
        if (words.get(0).equalsIgnoreCase("RUN") && words.contains("mvn") && words.contains("package") && words.contains("-DskipTests")) {
          build = stage;
        }
      }
    }
    assertNotNull(build, "no build stage runs mvn ... package -DskipTests");
    assertTrue(build.image().startsWith("maven:") && build.image().contains("17"), "the build stage is Maven on JDK 17: " + build.image());
    for (String line : build.lines()) {
      if (line.startsWith("COPY ") && !line.contains("--from")) {
        List<String> words = List.of(line.split("\\s+"));
        for (String source : words.subList(1, words.size() - 1)) {
          if (!source.startsWith("--")) {
            assertTrue(Files.exists(ROOT.resolve(source)), "the build stage copies " + source + ", which the repository does not have");
          }
        }
      }
    }
    assertTrue(
        Files.readString(ROOT.resolve("pom.xml")).contains("<finalName>zyven</finalName>"),
        "pom.xml no longer builds target/zyven.jar");

    assertTrue(runtime.image().startsWith("eclipse-temurin:17") && runtime.image().contains("jre"), "runtime image: " + runtime.image());
    String jar = null;
    String buildRef = build.name() != null ? build.name() : String.valueOf(stages.indexOf(build));
    for (String line : runtime.lines()) {
      List<String> words = List.of(line.split("\\s+"));
      if (words.get(0).equals("COPY") && words.contains("--from=" + buildRef)) {
        List<String> paths = words.stream().filter(w -> !w.startsWith("--")).toList();
        if (paths.size() == 3 && paths.get(1).endsWith("target/zyven.jar")) {
          String dest = paths.get(2);
          jar = dest.endsWith("/") ? dest + "zyven.jar" : dest;
        }
      }
    }
    assertNotNull(jar, "the runtime stage does not COPY --from=" + buildRef + " .../target/zyven.jar");

    String entrypoint = instruction(runtime, "ENTRYPOINT");
    assertNotNull(entrypoint, "no ENTRYPOINT");
    List<String> exec = asList(new Yaml(new SafeConstructor(new LoaderOptions())).load(entrypoint), "ENTRYPOINT").stream()
        .map(DeploymentFilesTest::str)
        .toList();
    assertEquals("java", exec.get(0), "ENTRYPOINT in exec form runs java as PID 1, so SIGTERM reaches it");
    int jarFlag = exec.indexOf("-jar");
    assertTrue(jarFlag > 0 && jarFlag + 1 < exec.size() && exec.get(jarFlag + 1).equals(jar), "ENTRYPOINT runs " + jar + ": " + exec);

    String expose = instruction(runtime, "EXPOSE");
    assertNotNull(expose, "no EXPOSE");
    Set<String> exposed = Set.of(expose.split("\\s+"));
    assertTrue(exposed.contains(String.valueOf(defaultHttpPort)), "EXPOSE the HTTP port " + defaultHttpPort);
    assertTrue(exposed.contains(String.valueOf(defaultClusterPort)), "EXPOSE the remoting port " + defaultClusterPort);

    String user = instruction(runtime, "USER");
    assertNotNull(user, "the runtime stage sets no USER: the node would run as root");
    String who = user.split(":")[0];
    assertFalse(who.equals("root") || who.equals("0"), "USER " + user + " is root");
  }

  @Test
  void dockerignoreKeepsBuildOutputDataAndHistoryOut() throws IOException {
    Set<String> patterns =
        Files.readAllLines(ROOT.resolve(".dockerignore")).stream()
            .map(String::trim)
            .filter(l -> !l.isEmpty() && !l.startsWith("#"))
            .map(l -> l.replaceAll("^/+", "").replaceAll("/+$", ""))
            .collect(Collectors.toSet());
    for (String p : List.of("target", "data", ".git")) {
      assertTrue(patterns.contains(p), ".dockerignore does not exclude " + p + "/");
    }
  }

  // ---------------------------------------------------------------- what the app reads

  /** Every ZYVEN_* variable in cluster.conf and app/resources/*.conf, and every one read with System.getenv under app/. */
  private static Set<String> variablesTheAppReads() throws IOException {
    Set<String> found = new TreeSet<>();
    Pattern hocon = Pattern.compile("\\$\\{\\?\\s*(ZYVEN_[A-Z0-9_]+)\\s*}");
    Pattern getenv = Pattern.compile("System\\.getenv\\(\\s*\"(ZYVEN_[A-Z0-9_]+)\"\\s*\\)");
    List<Path> confs = new ArrayList<>(List.of(ROOT.resolve("cluster.conf")));
    try (Stream<Path> s = Files.list(ROOT.resolve("app/resources"))) {
      s.filter(p -> p.toString().endsWith(".conf")).forEach(confs::add);
    }
    for (Path conf : confs) {
      hocon.matcher(Files.readString(conf)).results().forEach(r -> found.add(r.group(1)));
    }
    List<Path> sources;
    try (Stream<Path> s = Files.walk(ROOT.resolve("app"))) {
      sources = s.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertTrue(sources.contains(ROOT.resolve("app/io/zyven/app/Main.java")), "app/io/zyven/app/Main.java moved");
    for (Path source : sources) {
      getenv.matcher(Files.readString(source)).results().forEach(r -> found.add(r.group(1)));
    }
    return found;
  }

  /** cluster.conf and zyven.conf as they resolve with no environment: the defaults. */
  private static Config appDefaults() {
    return ConfigFactory.parseFile(ROOT.resolve("app/resources/zyven.conf").toFile())
        .withFallback(ConfigFactory.parseFile(ROOT.resolve("cluster.conf").toFile()))
        .resolve(ConfigResolveOptions.noSystem());
  }

  // ---------------------------------------------------------------- helpers

  private static boolean runsZyven(Map<String, Object> service) {
    String image = str(service.getOrDefault("image", ""));
    if (image.equals("zyven") || image.startsWith("zyven:")) {
      return true;
    }
    Object build = service.get("build");
    return build instanceof Map<?, ?> b && "deploy/Dockerfile".equals(str(b.get("dockerfile")));
  }

  /** A service's environment, map or list form, with Compose's ${VAR:-default} resolved to its defaults. */
  private static Map<String, String> environment(Map<String, Object> service, String name) {
    Map<String, String> env = new LinkedHashMap<>();
    rawEnvironment(service, name).forEach((k, v) -> env.put(k, interpolate(v)));
    return env;
  }

  private static Map<String, String> rawEnvironment(Map<String, Object> service, String name) {
    Map<String, String> env = new LinkedHashMap<>();
    Object e = service.get("environment");
    if (e instanceof Map<?, ?> map) {
      map.forEach((k, v) -> env.put(str(k), v == null ? "" : str(v)));
    } else if (e != null) {
      for (Object item : asList(e, name + ".environment")) {
        String s = str(item);
        int eq = s.indexOf('=');
        env.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
      }
    }
    return env;
  }

  private static final Pattern INTERPOLATION =
      Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?}|\\$([A-Za-z_][A-Za-z0-9_]*)");

  /**
   * Compose interpolation as it resolves on a machine with none of the variables set, so
   * the checks do not depend on the environment the tests run in. A required variable
   * ({@code ${VAR:?message}}) stays as written.
   */
  static String interpolate(String value) {
    Matcher m = INTERPOLATION.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group().equals("$$")) {
        replacement = "$";
      } else if (m.group(2) == null) {
        replacement = "";
      } else if (m.group(2).endsWith("-")) {
        replacement = m.group(3);
      } else if (m.group(2).endsWith("?")) {
        replacement = m.group();
      } else {
        replacement = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String healthcheckCommand(Map<String, Object> service, String name) {
    Object hc = service.get("healthcheck");
    assertNotNull(hc, name + " has no healthcheck");
    Object test = asMap(hc, name + ".healthcheck").get("test");
    assertNotNull(test, name + ".healthcheck has no test");
    return test instanceof List<?> l ? l.stream().map(DeploymentFilesTest::str).collect(Collectors.joining(" ")) : str(test);
  }

  /** {host port, container port} of a Compose port entry, short or long syntax; host -1 if unpublished. */
  private static int[] portMapping(Object port) {
    if (port instanceof Map<?, ?> map) {
      Object published = map.get("published");
      return new int[] {published == null ? -1 : Integer.parseInt(str(published)), Integer.parseInt(str(map.get("target")))};
    }
    String[] parts = str(port).replaceAll("/.*$", "").split(":");
    int container = Integer.parseInt(parts[parts.length - 1]);
    int host = parts.length >= 2 ? Integer.parseInt(parts[parts.length - 2]) : -1;
    return new int[] {host, container};
  }

  /** Durations as Compose and Prometheus write them: 90s, 1m30s, 2m, 500ms, 1h. */
  static Duration composeDuration(String text) {
    Matcher m = Pattern.compile("(\\d+)(ms|us|ns|h|m|s)").matcher(text.trim());
    Duration total = Duration.ZERO;
    int end = 0;
    while (m.find()) {
      assertEquals(end, m.start(), "not a duration: " + text);
      long n = Long.parseLong(m.group(1));
      total = total.plus(switch (m.group(2)) {
        case "h" -> Duration.ofHours(n);
        case "m" -> Duration.ofMinutes(n);
        case "s" -> Duration.ofSeconds(n);
        case "ms" -> Duration.ofMillis(n);
        case "us" -> Duration.ofNanos(n * 1000);
        default -> Duration.ofNanos(n);
      });
      end = m.end();
    }
    assertTrue(end > 0 && end == text.trim().length(), "not a duration: " + text);
    return total;
  }

  /** deploy/Dockerfile as stages of instructions: comments dropped, continuation lines joined. */
  private static List<Stage> dockerStages() throws IOException {
    List<String> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String raw : Files.readAllLines(ROOT.resolve("deploy/Dockerfile"))) {
      String line = raw.trim();
      if (line.startsWith("#") || (line.isEmpty() && current.length() == 0)) {
        continue;
      }
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      current.append(line);
      if (current.toString().isBlank()) {
        continue;
      }
      instructions.add(current.toString().trim().replaceAll("\\s+", " "));
      current.setLength(0);
    }
    List<Stage> stages = new ArrayList<>();
    Pattern from = Pattern.compile("(?i)FROM\\s+(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?");
    for (String instruction : instructions) {
      Matcher m = from.matcher(instruction);
      if (m.matches()) {
        stages.add(new Stage(m.group(1), m.group(2), new ArrayList<>()));
      } else if (!stages.isEmpty()) {
        String keyword = instruction.split(" ", 2)[0].toUpperCase();
        stages.get(stages.size() - 1).lines().add(keyword + instruction.substring(keyword.length()));
      } else if (!instruction.toUpperCase().startsWith("ARG ")) {
        fail("deploy/Dockerfile: " + instruction + " before the first FROM");
      }
    }
    return stages;
  }

  /** The arguments of a stage's last instruction of this kind, or null. */
  private static String instruction(Stage stage, String keyword) {
    String found = null;
    for (String line : stage.lines()) {
      if (line.startsWith(keyword + " ")) {
        found = line.substring(keyword.length() + 1).trim();
      }
    }
    return found;
  }

  private static Set<String> dockerfileEnvKeys() throws IOException {
    Set<String> keys = new TreeSet<>();
    for (Stage stage : dockerStages()) {
      for (String line : stage.lines()) {
        if (line.startsWith("ENV ")) {
          String rest = line.substring(4).trim();
          if (rest.contains("=")) {
            Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=").matcher(rest);
            while (m.find()) {
              keys.add(m.group(1));
            }
          } else {
            keys.add(rest.split("\\s+")[0]);
          }
        }
      }
    }
    return keys;
  }

  private static Map<String, Object> yaml(Path file) {
    try {
      Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
      return asMap(doc, ROOT.relativize(file).toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o, String what) {
    assertTrue(o instanceof Map, what + " is not a mapping: " + o);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> asList(Object o, String what) {
    assertTrue(o instanceof List, what + " is not a list: " + o);
    return (List<Object>) o;
  }

  private static String str(Object o) {
    return o == null ? null : String.valueOf(o);
  }
}
