package io.zyven.app;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The retention sweep survives a kill -9 halfway through: each event's rows (journal,
 * tags, snapshots, read model) are all there or all gone, never half, and the next node
 * finishes the job; the read-model projection carries on after it. The node runs in a JVM
 * of its own on a private PostgreSQL, which outlives the kills; everything is observed in
 * the database, through the API and at the receiver.
 */
class RetentionKillTest {
  private static final int EVENTS = 400;
  private static final Duration PATIENCE = Duration.ofSeconds(60);
  /** Nothing is removed while the events are filled in. */
  private static final Map<String, String> KEEP = Map.of("zyven.retention.period", "1h");
  /** Everything is past its period, and the removal takes many runs of 25. */
  private static final Map<String, String> SWEEP = Map.of(
      "zyven.retention.period", "1s",
      "zyven.retention.interval", "200ms",
      "zyven.retention.batch", "25");

  private TestPostgres pg;
  private NodeProcess node;

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) node.close();
    if (pg != null) pg.close();
  }

  @Test
  void theSweepSurvivesAKillHalfwayThroughAndTheNextRunFinishesTheJob() throws Exception {
    pg = TestPostgres.startPrivate();
    try (Receiver receiver = new Receiver()) {
      // ---- fill: 400 delivered events, kept for an hour ----
      node = start(KEEP, NodeProcess.logFile("retention-kill-fill"));
      Tenant tenant = node.api.createTenant("retention-kill");
      node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\",\"max_in_flight\":32}");
      List<String> ids = ingest(tenant, "old-", EVENTS);
      Await.until("every event delivered in the read model", PATIENCE,
          () -> pg.count("SELECT count(*) FROM events WHERE tenant_id = ?::uuid AND status = 'DELIVERED'", tenant.id())
              == EVENTS);
      Map<String, Set<Long>> orderings = orderings(ids);
      assertEquals(EVENTS, orderings.size());
      for (String id : ids) assertTrue(orderings.get(id).size() >= 2, "Received and Delivered journaled: " + id);
      node.kill();

      // ---- sweep, and kill -9 once some are gone but not all ----
      node = start(SWEEP, NodeProcess.logFile("retention-kill-sweep"));
      Await.until("some events removed, not all", PATIENCE, () -> {
        long left = eventRows(tenant);
        return left > 0 && left < EVENTS;
      });
      node.kill();

      Map<String, Rows> rows = rowsOf(ids, orderings);
      int whole = 0;
      int gone = 0;
      for (String id : ids) {
        Rows r = rows.get(id);
        Set<Long> journaled = orderings.get(id);
        if (r.journal().isEmpty()) {
          assertEquals(new Rows(Set.of(), 0, 0, 0, 0, 0), r, "an event without journal rows has no rows anywhere: " + id);
          gone++;
        } else {
          assertEquals(new Rows(journaled, journaled.size(), 0, 1, 1, 1), r,
              "an event with journal rows has every row it had: " + id);
          whole++;
        }
      }
      assertTrue(gone > 0 && whole > 0, "killed halfway: " + gone + " gone, " + whole + " whole");

      // ---- the next node finishes the job ----
      Path log = NodeProcess.logFile("retention-kill-after");
      node = start(SWEEP, log);
      Await.until("every event gone from every table", PATIENCE, () -> {
        Map<String, Rows> now = rowsOf(ids, orderings);
        return ids.stream().allMatch(id -> now.get(id).equals(new Rows(Set.of(), 0, 0, 0, 0, 0)));
      });
      assertEquals(0, eventRows(tenant));
      for (int i = 0; i < EVENTS; i += 40) assertProblem(node.api.get("/v1/events/" + ids.get(i), tenant.apiKey()), 404);

      // ---- the projection carries on: new events reach the receiver and the read model ----
      Tenant keeper = node.api.createTenant("retention-kill-keeper");
      Response kept = node.api.patchJson("/v1/tenants/" + keeper.id(), NodeProcess.ADMIN_KEY, "{\"retention_period_days\":1}");
      assertEquals(200, kept.status(), kept.body());
      node.api.createEndpoint(keeper.apiKey(), "{\"url\":\"" + receiver.url("/after") + "\"}");
      List<String> after = ingest(keeper, "new-", 5);
      Await.until("the new events delivered to the receiver", PATIENCE, () -> receiver.requests("/after").stream()
          .map(r -> r.header("webhook-id")).collect(Collectors.toSet()).containsAll(after));
      Await.until("the new events delivered in the read model", PATIENCE,
          () -> node.api.listIds(keeper.apiKey(), "DELIVERED").containsAll(after));
      List<String> projectionErrors = NodeProcess.read(log).lines()
          .filter(l -> l.contains("ERROR") && l.toLowerCase().contains("projection"))
          .toList();
      assertEquals(List.of(), projectionErrors);
    }
  }

  // ---- helpers ----

  private NodeProcess start(Map<String, String> config, Path log) throws Exception {
    Map<String, String> env = Map.of("ZYVEN_DB_URL", pg.jdbcUrl(), "ZYVEN_DB_USER", "postgres", "ZYVEN_DB_PASSWORD", "");
    NodeProcess started = NodeProcess.start(Files.createTempDirectory("unused"), log, env, config);
    started.awaitReady(Duration.ofSeconds(90));
    return started;
  }

  private List<String> ingest(Tenant tenant, String prefix, int n) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<String>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String key = prefix + i;
        NodeProcess target = node;
        futures.add(pool.submit(() -> {
          Response r = target.api.ingest(tenant.apiKey(), key, "{\"type\":\"a.b\",\"payload\":{\"key\":\"" + key + "\"}}");
          assertEquals(202, r.status(), r.body());
          return r.json().get("event_id").asText();
        }));
      }
      List<String> ids = new ArrayList<>();
      for (Future<String> f : futures) ids.add(f.get());
      return ids;
    } finally {
      pool.shutdownNow();
    }
  }

  private long eventRows(Tenant tenant) {
    return pg.count("SELECT count(*) FROM events WHERE tenant_id = ?::uuid", tenant.id());
  }

  /** Each event's journal orderings, by event id. */
  private Map<String, Set<Long>> orderings(List<String> ids) throws SQLException {
    Map<String, Set<Long>> found = new HashMap<>();
    try (Connection c = connect();
        PreparedStatement st = c.prepareStatement(
            "SELECT substring(persistence_id FROM 7), ordering FROM event_journal WHERE persistence_id = ANY(?)")) {
      st.setArray(1, c.createArrayOf("text", ids.stream().map(id -> "Event|" + id).toArray()));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) found.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getLong(2));
      }
    }
    return found;
  }

  /**
   * An event's rows in every table retention deletes from: its journal orderings, the tag
   * rows of the orderings it had, its snapshots, and its read-model rows.
   */
  private record Rows(Set<Long> journal, long tags, long snapshots, long events, long deliveries, long attempts) {}

  private Map<String, Rows> rowsOf(List<String> ids, Map<String, Set<Long>> orderingsBefore) {
    try (Connection c = connect()) {
      Map<String, Set<Long>> journal = new HashMap<>();
      try (PreparedStatement st = c.prepareStatement(
          "SELECT substring(persistence_id FROM 7), ordering FROM event_journal WHERE persistence_id = ANY(?)")) {
        st.setArray(1, c.createArrayOf("text", ids.stream().map(id -> "Event|" + id).toArray()));
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) journal.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getLong(2));
        }
      }
      Map<Long, String> owner = new HashMap<>();
      orderingsBefore.forEach((id, os) -> os.forEach(o -> owner.put(o, id)));
      Map<String, Long> tags = new HashMap<>();
      try (PreparedStatement st = c.prepareStatement("SELECT event_id FROM event_tag WHERE event_id = ANY(?)")) {
        st.setArray(1, c.createArrayOf("bigint", owner.keySet().toArray()));
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) tags.merge(owner.get(rs.getLong(1)), 1L, Long::sum);
        }
      }
      Map<String, Long> snapshots = countBy(c,
          "SELECT substring(persistence_id FROM 7), count(*) FROM snapshot WHERE persistence_id = ANY(?) GROUP BY 1",
          "text", ids.stream().map(id -> "Event|" + id).toArray());
      Object[] uuids = ids.stream().map(UUID::fromString).toArray();
      Map<String, Long> events =
          countBy(c, "SELECT event_id::text, count(*) FROM events WHERE event_id = ANY(?) GROUP BY 1", "uuid", uuids);
      Map<String, Long> deliveries =
          countBy(c, "SELECT event_id::text, count(*) FROM deliveries WHERE event_id = ANY(?) GROUP BY 1", "uuid", uuids);
      Map<String, Long> attempts =
          countBy(c, "SELECT event_id::text, count(*) FROM attempts WHERE event_id = ANY(?) GROUP BY 1", "uuid", uuids);
      Map<String, Rows> rows = new HashMap<>();
      for (String id : ids) {
        rows.put(id, new Rows(
            journal.getOrDefault(id, Set.of()), tags.getOrDefault(id, 0L), snapshots.getOrDefault(id, 0L),
            events.getOrDefault(id, 0L), deliveries.getOrDefault(id, 0L), attempts.getOrDefault(id, 0L)));
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, Long> countBy(Connection c, String sql, String type, Object[] values) throws SQLException {
    Map<String, Long> counts = new HashMap<>();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setArray(1, c.createArrayOf(type, values));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) counts.put(rs.getString(1), rs.getLong(2));
      }
    }
    return counts;
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
  }
}
