package io.zyven.app.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zyven.app.store.EmbeddedDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A real PostgreSQL for tests: one per test JVM, shared by every node the tests start
 * (tests keep apart by using tenants of their own). Tests that take PostgreSQL away
 * start a private one with {@link #startPrivate}.
 */
public final class TestPostgres implements AutoCloseable {

  private static TestPostgres shared;

  private final Path dataDir;
  private final int port;
  private EmbeddedPostgres postgres;

  private TestPostgres(Path dataDir, int port) throws IOException {
    this.dataDir = dataDir;
    this.port = port;
    start();
  }

  public static synchronized TestPostgres shared() {
    if (shared == null) {
      try {
        shared = new TestPostgres(Files.createTempDirectory("zyven-test-pg"), 0);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return shared;
  }

  /** A PostgreSQL of the caller's own, which it may stop and start again. */
  public static TestPostgres startPrivate() throws IOException {
    return new TestPostgres(Files.createTempDirectory("zyven-test-pg"), 0);
  }

  /** Starts (again) on the same data directory and port. */
  public void start() throws IOException {
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setServerConfig("max_connections", "300");
    builder.setPort(postgres != null ? postgres.getPort() : EmbeddedDatabase.freePort());
    postgres = builder.start();
  }

  public void stop() throws IOException {
    postgres.close();
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
  }

  public long count(String sql, Object... params) {
    try (Connection c = DriverManager.getConnection(jdbcUrl(), "postgres", "");
        PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) st.setObject(i + 1, params[i]);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public String queryString(String sql, Object... params) {
    try (Connection c = DriverManager.getConnection(jdbcUrl(), "postgres", "");
        PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) st.setObject(i + 1, params[i]);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Journal rows of one event (its acceptance and every transition since). */
  public long journalRows(String eventId) {
    return count("SELECT count(*) FROM event_journal WHERE persistence_id = ?", "Event|" + eventId);
  }

  /** How many times this event was accepted: 0 or 1. */
  public long acceptances(String eventId) {
    return count(
        "SELECT count(*) FROM event_journal WHERE persistence_id = ? AND event_ser_manifest LIKE '%$Received'",
        "Event|" + eventId);
  }

  /**
   * Journal rows that record an acceptance ({@code Received}, by its serializer manifest),
   * per event id, for every event in this database that has one.
   */
  public java.util.Map<String, Long> receivedRowsPerEvent() {
    java.util.Map<String, Long> rows = new java.util.HashMap<>();
    try (Connection c = DriverManager.getConnection(jdbcUrl(), "postgres", "");
        PreparedStatement st = c.prepareStatement(
            "SELECT substring(persistence_id FROM 7), count(*) FROM event_journal"
                + " WHERE persistence_id LIKE 'Event|%' AND event_ser_manifest = ? GROUP BY persistence_id")) {
      st.setString(1, io.zyven.protocol.EventJournal.Received.class.getName());
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) rows.put(rs.getString(1), rs.getLong(2));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return rows;
  }

  /** Events accepted in this database, all tenants (deliveries running meanwhile don't count). */
  public long allAcceptances() {
    return count("SELECT count(*) FROM event_journal WHERE event_ser_manifest LIKE '%$Received'");
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
