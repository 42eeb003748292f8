package io.zyven.app.testing;

import io.zyven.app.store.EmbeddedDatabase;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Zyven node in a JVM of its own, started the way an operator starts it ({@code Main},
 * configured by environment variables), so that tests can kill it for real.
 */
public final class NodeProcess implements AutoCloseable {
  public static final String ADMIN_KEY = "process-admin-key";

  private final Process process;
  private final int httpPort;
  public final ApiClient api;

  private NodeProcess(Process process, int httpPort) {
    this.process = process;
    this.httpPort = httpPort;
    this.api = new ApiClient(url(), ADMIN_KEY);
  }

  public String url() {
    return "http://127.0.0.1:" + httpPort;
  }

  /** Starts a node whose embedded PostgreSQL keeps its data in {@code dataDir}. */
  public static NodeProcess start(Path dataDir, Path log, Map<String, String> extraEnv) throws IOException {
    return start(dataDir, log, extraEnv, Map.of());
  }

  /** The same, with config overrides passed as {@code -Dpath=value}. */
  public static NodeProcess start(
      Path dataDir, Path log, Map<String, String> extraEnv, Map<String, String> config) throws IOException {
    return start(dataDir, log, extraEnv, config, List.of());
  }

  /**
   * The same, with command-line arguments for {@code Main} (e.g. {@code dev}). Unless the
   * node runs in dev mode or {@code config} says otherwise, it may deliver to loopback.
   */
  public static NodeProcess start(
      Path dataDir, Path log, Map<String, String> extraEnv, Map<String, String> config, List<String> args)
      throws IOException {
    int httpPort = freePort();
    List<String> command = javaCommand(config);
    boolean dev = args.contains("dev") || "true".equals(extraEnv.get("ZYVEN_DEV"));
    // Tests deliver to receivers on loopback.
    if (!dev && !config.containsKey(PRIVATE_TARGETS)) command.add("-D" + PRIVATE_TARGETS + "=true");
    command.add("io.zyven.app.Main");
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command);
    Map<String, String> env = new HashMap<>();
    env.put("ZYVEN_DATA_DIR", dataDir.toString());
    env.put("ZYVEN_HTTP_PORT", Integer.toString(httpPort));
    env.put("ZYVEN_CLUSTER_PORT", Integer.toString(freePort()));
    env.put("ZYVEN_ADMIN_KEY", ADMIN_KEY);
    env.putAll(extraEnv);
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new NodeProcess(pb.start(), httpPort);
  }

  /**
   * Runs {@code Main} with these arguments to its end, as an operator runs a command, and
   * returns what it printed (stdout and stderr).
   */
  public static String run(List<String> args, Map<String, String> env, Duration timeout)
      throws IOException, InterruptedException {
    List<String> command = javaCommand(Map.of());
    command.add("io.zyven.app.Main");
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes(); // until the process closes its output
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("did not finish within " + timeout + ": " + new String(out));
    }
    return new String(out, java.nio.charset.StandardCharsets.UTF_8);
  }

  private static final String PRIVATE_TARGETS = "zyven.delivery.allow-private-targets";

  private static List<String> javaCommand(Map<String, String> config) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // A test node lives seconds to a minute, beside the test JVMs on a small machine: the
    // client compiler alone and one GC thread start it with about 40 % less CPU (6 s instead
    // of 10 s on two cores) and leave the CPU to the nodes' work rather than to C2.
    List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
    config.forEach((k, v) -> command.add("-D" + k + "=" + v));
    command.addAll(List.of("-cp", nodeClassPath()));
    return command;
  }

  /** Polls readiness until the node answers 200 (nothing to subscribe to across processes). */
  public void awaitReady(Duration timeout) throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) throw new IllegalStateException("node exited with " + process.exitValue());
      try {
        if (api.get("/health/ready", null).status() == 200) return;
      } catch (RuntimeException notListeningYet) {
        // connection refused until the HTTP server binds
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("node not ready within " + timeout);
  }

  /** kill -9: no shutdown hook runs; the node's PostgreSQL is left running. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the node leaves the cluster and stops its PostgreSQL. Returns the exit code. */
  public int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) throw new IllegalStateException("node did not stop on SIGTERM");
    return process.exitValue();
  }

  /** Sends SIGTERM and returns at once; see {@link #awaitExit}. */
  public void signalTerm() {
    process.destroy();
  }

  /** Waits for the node to exit on its own; its exit code. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) throw new IllegalStateException("node did not exit");
    return process.exitValue();
  }

  public long pid() {
    return process.pid();
  }

  /** The PostgreSQL a node started in {@code dataDir}, from its postmaster.pid, if any. */
  public static java.util.Optional<Long> postgresPid(Path dataDir) {
    try {
      Path pidFile = dataDir.resolve("postgres").resolve("postmaster.pid");
      if (!java.nio.file.Files.exists(pidFile)) return java.util.Optional.empty();
      return java.util.Optional.of(Long.parseLong(java.nio.file.Files.readAllLines(pidFile).get(0).trim()));
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  /**
   * The test JVM's class path without the test classes: the node runs with what an operator
   * runs, in particular the packaged logback.xml rather than the tests' logback-test.xml
   * (which logback would prefer).
   */
  public static String nodeClassPath() {
    Path testClasses;
    try {
      testClasses = Path.of(NodeProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(entry -> !entry.isEmpty() && !Path.of(entry).toAbsolutePath().equals(testClasses.toAbsolutePath()))
        .collect(Collectors.joining(File.pathSeparator));
  }

  /** Whatever happened, leave no PostgreSQL running on {@code dataDir} behind. */
  public static void killPostgres(Path dataDir) {
    if (dataDir != null) postgresPid(dataDir).flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
  }

  /** A new file under target/node-logs for a node's output, named after {@code what}. */
  public static Path logFile(String what) throws IOException {
    return java.nio.file.Files.createDirectories(Path.of("target", "node-logs")).resolve(what + "-" + System.nanoTime() + ".log");
  }

  /** A node's output so far; empty before the file exists. */
  public static String read(Path log) {
    try {
      return java.nio.file.Files.readString(log);
    } catch (IOException e) {
      return "";
    }
  }

  /** A port free now, for a process that binds it a moment later: see {@link EmbeddedDatabase#freePort}. */
  public static int freePort() throws IOException {
    return EmbeddedDatabase.freePort();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) kill();
  }
}
