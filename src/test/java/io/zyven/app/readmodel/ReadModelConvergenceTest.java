package io.zyven.app.readmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The read model converges on the entities: after a few hundred events with retries, dead
 * letters and fan-out have all ended, every {@code events}, {@code deliveries} and
 * {@code attempts} row says what {@code GET /v1/events/{id}} (the entity itself) says.
 */
class ReadModelConvergenceTest {
  private static final int EVENTS = 300;
  private static final Duration PATIENCE = Duration.ofSeconds(120);

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  private static PerEventReceiver flaky;

  @BeforeAll
  static void start() throws IOException {
    pg = TestPostgres.shared();
    node = TestNode.start(pg, Map.of(
        "zyven.delivery.retry-schedule", List.of("50ms", "100ms"),
        "zyven.delivery.jitter", 0.2,
        // The flaky endpoint fails two requests in three: its circuit opens again and again
        // and defers attempts (AttemptDeferred), with short cool-downs. An endpoint's
        // timeout_ms (5 s here, ample on a busy machine) is also how long a half-open circuit
        // defers the others while its probe is out.
        "zyven.circuit.failure-threshold", 5,
        "zyven.circuit.cooldown", "100ms",
        "zyven.circuit.max-cooldown", "200ms"));
    api = node.api;
    receiver = new Receiver();
    receiver.on("/ok", n -> Answer.status(200));
    receiver.on("/bad", n -> Answer.status(400));
    flaky = new PerEventReceiver(2, 503);
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    flaky.close();
    node.close();
  }

  @Test
  void everyRowAgreesWithItsEntityOnceAllEventsHaveEnded() {
    Tenant tenant = api.createTenant("convergence-" + UUID.randomUUID());
    String ok = endpoint(tenant, receiver.url("/ok"), "[\"ok.*\",\"mix.*\"]");
    String bad = endpoint(tenant, receiver.url("/bad"), "[\"bad.*\",\"mix.*\"]");
    String flakyEndpoint = endpoint(tenant, flaky.url(), "[\"flaky.*\",\"mix.*\"]");
    List<String> types = List.of("ok.created", "bad.created", "flaky.created", "mix.created");

    // ---- ingest: one type in four fans out to all three endpoints ----
    Map<String, String> typeOf = new LinkedHashMap<>();
    for (int i = 0; i < EVENTS; i++) {
      String type = types.get(i % types.size());
      ApiClient.Response r = api.ingest(tenant.apiKey(), "conv-" + i, "{\"type\":\"" + type + "\",\"payload\":{\"i\":" + i + "}}");
      assertEquals(202, r.status(), r.body());
      typeOf.put(r.json().get("event_id").asText(), type);
    }

    // ---- every entity reaches a terminal state ----
    Map<String, JsonNode> entities = new ConcurrentHashMap<>();
    Set<String> pending = new LinkedHashSet<>(typeOf.keySet());
    Await.until("every event terminal through GET /v1/events/{id}", PATIENCE, () -> {
      for (var it = pending.iterator(); it.hasNext(); ) {
        String id = it.next();
        JsonNode e = api.get("/v1/events/" + id, tenant.apiKey()).json();
        String status = e.get("status").asText();
        if (status.equals("DELIVERED") || status.equals("DEAD_LETTERED")) {
          entities.put(id, e);
          it.remove();
        }
      }
      return pending.isEmpty();
    });

    // The outcomes are the ones the receivers decide.
    for (Map.Entry<String, String> e : typeOf.entrySet()) {
      JsonNode entity = entities.get(e.getKey());
      String expected = e.getValue().startsWith("bad.") || e.getValue().startsWith("mix.") ? "DEAD_LETTERED" : "DELIVERED";
      assertEquals(expected, entity.get("status").asText(), entity.toString());
      for (JsonNode d : entity.get("deliveries")) {
        String endpointId = d.get("endpoint_id").asText();
        int attempts = endpointId.equals(flakyEndpoint) ? 3 : 1;
        assertEquals(attempts, d.get("attempt_count").asInt(), entity.toString());
        assertEquals(endpointId.equals(bad) ? "DEAD_LETTERED" : "DELIVERED", d.get("status").asText(), entity.toString());
      }
      assertEquals(e.getValue().startsWith("mix.") ? 3 : 1, entity.get("deliveries").size());
    }

    // ---- the read model catches up: no delivery of the tenant left in progress ----
    UUID tenantId = UUID.fromString(tenant.id());
    long deliveries = entities.values().stream().mapToLong(e -> e.get("deliveries").size()).sum();
    long attempts = entities.values().stream()
        .flatMap(e -> iterable(e.get("deliveries")).stream())
        .mapToLong(d -> d.get("attempts").size()).sum();
    Await.until("the read model has every row, and every delivery terminal", PATIENCE, () ->
        pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", tenantId) == EVENTS
            && pg.count("SELECT count(*) FROM deliveries WHERE tenant_id = ?"
                + " AND status IN ('DELIVERED', 'DEAD_LETTERED')", tenantId) == deliveries
            && pg.count("SELECT count(*) FROM events WHERE tenant_id = ?"
                + " AND status IN ('DELIVERED', 'DEAD_LETTERED')", tenantId) == EVENTS
            && pg.count("SELECT count(*) FROM attempts a JOIN events e ON e.event_id = a.event_id"
                + " WHERE e.tenant_id = ?", tenantId) == attempts);
    assertEquals(deliveries, pg.count("SELECT count(*) FROM deliveries WHERE tenant_id = ?", tenantId));

    // ---- and then it says what the entities say, row for row ----
    ReadModel rm = ReadModel.load(pg, tenantId);
    List<String> differences = new ArrayList<>();
    for (JsonNode entity : entities.values()) {
      String id = entity.get("id").asText();
      Map<String, Object> event = rm.events.get(id);
      same(differences, id, "events.status", entity.get("status").asText(), event.get("status"));
      same(differences, id, "events.type", entity.get("type").asText(), event.get("type"));
      same(differences, id, "events.created_at", micros(entity.get("created_at").asText()), event.get("created_at"));
      for (JsonNode d : entity.get("deliveries")) {
        String key = id + "/" + d.get("endpoint_id").asText();
        Map<String, Object> row = rm.deliveries.get(key);
        if (row == null) {
          differences.add(key + ": no deliveries row");
          continue;
        }
        same(differences, key, "status", d.get("status").asText(), row.get("status"));
        same(differences, key, "event_type", entity.get("type").asText(), row.get("event_type"));
        same(differences, key, "attempt_count", d.get("attempt_count").asInt(), row.get("attempt_count"));
        same(differences, key, "last_error", text(d.get("last_error")), row.get("last_error"));
        same(differences, key, "next_attempt_at", text(d.get("next_attempt_at")) == null ? null
            : micros(d.get("next_attempt_at").asText()), row.get("next_attempt_at"));
        List<Map<String, Object>> rows = rm.attempts.getOrDefault(key, List.of());
        same(differences, key, "attempt rows", d.get("attempts").size(), rows.size());
        for (int i = 0; i < Math.min(rows.size(), d.get("attempts").size()); i++) {
          JsonNode a = d.get("attempts").get(i);
          Map<String, Object> r = rows.get(i);
          String at = key + "#" + a.get("number").asInt();
          same(differences, at, "number", a.get("number").asInt(), r.get("number"));
          same(differences, at, "status_code", a.get("status_code").isNull() ? null : a.get("status_code").asInt(), r.get("status_code"));
          same(differences, at, "error", text(a.get("error")), r.get("error"));
          same(differences, at, "latency_ms", a.get("latency_ms").asLong(), r.get("latency_ms"));
          same(differences, at, "started_at", micros(a.get("started_at").asText()), r.get("started_at"));
        }
      }
    }
    assertTrue(differences.isEmpty(),
        differences.size() + " differences between the read model and the entities, e.g.\n"
            + String.join("\n", differences.subList(0, Math.min(20, differences.size()))));

    // The flaky endpoint's circuit opened and deferred attempts (AttemptDeferred gives the
    // attempt number back), and still every flaky delivery took exactly three requests.
    assertTrue(pg.count("SELECT count(*) FROM event_journal WHERE event_ser_manifest LIKE '%AttemptDeferred'"
        + " AND persistence_id IN (SELECT 'Event|' || event_id FROM events WHERE tenant_id = ?)", tenantId) > 0,
        "the circuit deferred some attempts");
    assertEquals(3 * (EVENTS / 2), flaky.requests(), "three requests per flaky delivery");
  }

  // ---- helpers ----

  private static String endpoint(Tenant tenant, String url, String eventTypes) {
    return api.createEndpoint(tenant.apiKey(),
        "{\"url\":\"" + url + "\",\"event_types\":" + eventTypes + ",\"max_attempts\":3,\"max_in_flight\":20,\"timeout_ms\":5000}");
  }

  private static void same(List<String> differences, String where, String what, Object entity, Object readModel) {
    if (!Objects.equals(entity, readModel)) {
      differences.add(where + " " + what + ": entity " + entity + ", read model " + readModel);
    }
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  /** An API timestamp as PostgreSQL keeps it: rounded to the microsecond. */
  private static Instant micros(String rfc3339) {
    Instant i = Instant.parse(rfc3339);
    long nanos = i.getNano();
    long rounded = Math.round(nanos / 1000.0) * 1000;
    return i.minusNanos(nanos).plusNanos(rounded);
  }

  private static List<JsonNode> iterable(JsonNode array) {
    List<JsonNode> out = new ArrayList<>();
    array.forEach(out::add);
    return out;
  }

  /** The tenant's read-model rows, keyed by event id (and endpoint id). */
  private record ReadModel(
      Map<String, Map<String, Object>> events,
      Map<String, Map<String, Object>> deliveries,
      Map<String, List<Map<String, Object>>> attempts) {

    static ReadModel load(TestPostgres pg, UUID tenantId) {
      ReadModel rm = new ReadModel(new HashMap<>(), new HashMap<>(), new HashMap<>());
      try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "")) {
        try (PreparedStatement st = c.prepareStatement(
            "SELECT event_id, status, type, created_at FROM events WHERE tenant_id = ?")) {
          st.setObject(1, tenantId);
          try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              Map<String, Object> row = new HashMap<>();
              row.put("status", rs.getString(2));
              row.put("type", rs.getString(3));
              row.put("created_at", rs.getTimestamp(4).toInstant());
              rm.events.put(rs.getString(1), row);
            }
          }
        }
        try (PreparedStatement st = c.prepareStatement(
            "SELECT event_id, endpoint_id, status, attempt_count, last_error, next_attempt_at, event_type"
                + " FROM deliveries WHERE tenant_id = ?")) {
          st.setObject(1, tenantId);
          try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              Map<String, Object> row = new HashMap<>();
              row.put("status", rs.getString(3));
              row.put("attempt_count", rs.getInt(4));
              row.put("last_error", rs.getString(5));
              Timestamp next = rs.getTimestamp(6);
              row.put("next_attempt_at", next == null ? null : next.toInstant());
              row.put("event_type", rs.getString(7));
              rm.deliveries.put(rs.getString(1) + "/" + rs.getString(2), row);
            }
          }
        }
        try (PreparedStatement st = c.prepareStatement(
            "SELECT a.event_id, a.endpoint_id, a.number, a.status_code, a.error, a.latency_ms, a.started_at"
                + " FROM attempts a JOIN events e ON e.event_id = a.event_id WHERE e.tenant_id = ?"
                + " ORDER BY a.event_id, a.endpoint_id, a.number")) {
          st.setObject(1, tenantId);
          try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              Map<String, Object> row = new HashMap<>();
              row.put("number", rs.getInt(3));
              int code = rs.getInt(4);
              row.put("status_code", rs.wasNull() ? null : code);
              row.put("error", rs.getString(5));
              row.put("latency_ms", rs.getLong(6));
              row.put("started_at", rs.getTimestamp(7).toInstant());
              rm.attempts.computeIfAbsent(rs.getString(1) + "/" + rs.getString(2), k -> new ArrayList<>()).add(row);
            }
          }
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      return rm;
    }
  }

  /**
   * A receiver on loopback that fails the first {@code failures} requests of each event
   * (told apart by {@code webhook-id}, stable across attempts) with {@code status}, then
   * answers 200. {@link Receiver} counts per path, and hundreds of events share this one.
   */
  private static final class PerEventReceiver implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, AtomicInteger> perEvent = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();

    PerEventReceiver(int failures, int status) throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(Executors.newFixedThreadPool(32));
      server.createContext("/", exchange -> {
        try (exchange; InputStream in = exchange.getRequestBody()) {
          in.readAllBytes();
          requests.incrementAndGet();
          String id = exchange.getRequestHeaders().getFirst("webhook-id");
          int n = perEvent.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
          exchange.sendResponseHeaders(n <= failures ? status : 200, -1);
        }
      });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/flaky";
    }

    int requests() {
      return requests.get();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
