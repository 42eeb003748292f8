package io.zyven.app.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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

  private EmbeddedDatabase(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  public static EmbeddedDatabase start(Path dataDir) throws IOException {
    Path pgData = dataDir.resolve("postgres").toAbsolutePath();
    Files.createDirectories(pgData);
    stopSurvivor(pgData);
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setDataDirectory(pgData)
            .setCleanDataDirectory(false)
            .setPGStartupWait(Duration.ofSeconds(60))
            // Room for several nodes' pools (journal + read model) on one machine.
            .setServerConfig("max_connections", "300")
            .start();
    log.info("Embedded PostgreSQL on port {} with data in {}", pg.getPort(), pgData);
    return new EmbeddedDatabase(pg);
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
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
