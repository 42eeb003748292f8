package io.zyven.app.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL that the node starts itself (zonky binaries), with its data kept in
 * {@code zyven.data-dir} across restarts, so one command runs Zyven on a bare machine.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);

  private final EmbeddedPostgres postgres;
  private final Path dataDirectory;

  private EmbeddedDatabase(EmbeddedPostgres postgres, Path dataDirectory) {
    this.postgres = postgres;
    this.dataDirectory = dataDirectory;
  }

  public static EmbeddedDatabase start(Path dataDir) throws IOException {
    return start(dataDir, 0);
  }

  /** On a given port (0: any free one). */
  public static EmbeddedDatabase start(Path dataDir, int port) throws IOException {
    Path pgData = dataDir.resolve("postgres").toAbsolutePath().normalize();
    Files.createDirectories(pgData);
    stopSurvivor(pgData);
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder()
            .setDataDirectory(pgData)
            .setCleanDataDirectory(false)
            .setPGStartupWait(Duration.ofSeconds(60))
            // Room for several nodes' pools (journal + read model) on one machine.
            .setServerConfig("max_connections", "300")
            // zonky's defaults are for throwaway test databases (fsync and synchronous
            // commit off): an accepted event must survive a power cut, so turn them back on.
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("full_page_writes", "on");
    builder.setPort(port > 0 ? port : freePort());
    EmbeddedPostgres pg = builder.start();
    log.info("Embedded PostgreSQL on port {} with data in {}", pg.getPort(), pgData);
    return new EmbeddedDatabase(pg, pgData);
  }

  /**
   * A PostgreSQL on its own, for a local cluster whose nodes all use it:
   * {@code java -cp target/zyven.jar io.zyven.app.store.EmbeddedDatabase <data-dir> <port>}.
   * Runs until stopped (SIGTERM stops PostgreSQL cleanly).
   */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "data/cluster");
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 5433;
    EmbeddedDatabase db = start(dir, port);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        db.close();
      } catch (IOException e) {
        log.warn("PostgreSQL did not stop cleanly", e);
      }
    }));
    System.out.println("PostgreSQL ready: " + db.jdbcUrl() + " (user postgres)");
    Thread.currentThread().join();
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
  }

  /** Where PostgreSQL keeps its files. */
  public Path dataDirectory() {
    return dataDirectory;
  }

  /**
   * A port that is free now, for a server started a moment later. Picked below Linux's
   * ephemeral range (32768 and up): there, the outgoing connections of this or another
   * process (a webhook sender makes many) could take it between the check and the bind.
   */
  public static int freePort() throws IOException {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int tries = 0; tries < 100; tries++) {
      int port = random.nextInt(20_000, 32_000);
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress("0.0.0.0", port));
        return port;
      } catch (IOException taken) {
        // another one
      }
    }
    throw new IOException("no free port between 20000 and 32000");
  }

  /**
   * The port of a PostgreSQL that is running now on {@code dataDir} (a node's, or one left
   * by a killed node), read from its {@code postmaster.pid}; empty when none runs.
   */
  public static Optional<Integer> runningPort(Path dataDir) {
    Path pidFile = dataDir.resolve("postgres").toAbsolutePath().resolve("postmaster.pid");
    Optional<ProcessHandle> pg = readPid(pidFile).flatMap(ProcessHandle::of);
    if (pg.isEmpty() || !pg.get().isAlive() || !isPostgres(pg.get())) return Optional.empty();
    try {
      List<String> lines = Files.readAllLines(pidFile);
      return Optional.of(Integer.parseInt(lines.get(3).trim())); // line 4: the port
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  public String user() {
    return "postgres";
  }

  /**
   * A node killed with -9 leaves its PostgreSQL running and holding the data dir; the next
   * start would wait for it and fail. Stop it first, so one restart is enough.
   */
  static void stopSurvivor(Path pgData) {
    Path pidFile = pgData.resolve("postmaster.pid");
    Optional<ProcessHandle> survivor = readPid(pidFile).flatMap(ProcessHandle::of);
    if (survivor.isEmpty() || !survivor.get().isAlive() || !isPostgres(survivor.get())) return;
    ProcessHandle pg = survivor.get();
    log.warn("A PostgreSQL (pid {}) left by an earlier run holds {}; stopping it", pg.pid(), pgData);
    pg.destroy(); // SIGTERM: smart shutdown; its clients died with the old node.
    if (!waitForExit(pg, 20)) {
      log.warn("PostgreSQL pid {} did not stop; killing it (WAL recovery follows)", pg.pid());
      pg.destroyForcibly();
      waitForExit(pg, 10);
    }
  }

  private static Optional<Long> readPid(Path pidFile) {
    try {
      List<String> lines = Files.readAllLines(pidFile);
      return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  // The PID in a stale file may have been reused by an unrelated process.
  private static boolean isPostgres(ProcessHandle p) {
    return p.info().command().map(c -> c.contains("postgres")).orElse(false);
  }

  private static boolean waitForExit(ProcessHandle p, int seconds) {
    try {
      p.onExit().get(seconds, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      return !p.isAlive();
    }
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
