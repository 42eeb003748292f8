package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.delivery.DeliveryMachine.Delivery;
import io.zyven.app.event.EventEntity;
import io.zyven.app.readmodel.RetentionArchive;
import io.zyven.app.readmodel.RetentionArchiveAccess;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retention archive round-trips: what a removed event's line holds is what the API
 * showed of it before it went (payload as JSON, deliveries, every attempt), in the file of
 * its tenant and UTC day of creation; and a torn gzip member left by a kill is cut off by
 * the next append, so the file reads back whole.
 */
class RetentionArchiveTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  /** Nested JSON, non-ASCII text (and an escaped one), escaped quotes and a backslash. */
  private static final String RICH_PAYLOAD = """
      {"user":{"name":"Zoë \\"Z\\" Ærø 😀","langs":["日本語","ελληνικά"]},\
      "items":[{"n":1,"price":2.5,"ok":true,"none":null},[]],\
      "quote":"a \\"quoted\\" word, a backslash \\\\ and \\u00e9"}""";

  @TempDir static Path archiveDir;

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void startNode() throws Exception {
    pg = TestPostgres.startPrivate();
    node = TestNode.start(pg, Map.of(
        "zyven.retention.period", "2s",
        "zyven.retention.interval", "300ms",
        "zyven.retention.archive-dir", archiveDir.toString()));
    api = node.api;
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (node != null) node.close();
    if (pg != null) pg.stop();
  }

  @Test
  void anArchivedEventReadsBackAsTheApiShowedItBeforeItsRemoval() throws Exception {
    try (Receiver receiver = new Receiver()) {
      receiver.on("/gone", n -> Answer.status(410));
      // Both tenants keep their events until the test has looked at them through the API.
      Tenant a = api.createTenant("archive-a-" + UUID.randomUUID());
      Tenant b = api.createTenant("archive-b-" + UUID.randomUUID());
      for (Tenant t : List.of(a, b)) retention(t, "7");
      api.createEndpoint(a.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
      api.createEndpoint(b.apiKey(), "{\"url\":\"" + receiver.url("/gone") + "\"}");

      String rich = ingest(a, "rich", RICH_PAYLOAD);
      String expunged = ingest(a, "expunged", "{\"secret\":\"s3cr3t\"}");
      String dead = ingest(b, "dead", "{\"n\":7}");
      Map<String, Tenant> tenantOf = Map.of(rich, a, expunged, a, dead, b);
      Map<String, String> finalStatus =
          Map.of(rich, "DELIVERED", expunged, "DELIVERED", dead, "DEAD_LETTERED");
      for (String id : finalStatus.keySet()) {
        Tenant t = tenantOf.get(id);
        Await.until(id + " finished, with its attempt in the read model", PATIENCE,
            () -> finalStatus.get(id).equals(api.get("/v1/events/" + id, t.apiKey()).json().get("status").asText())
                // The attempts route reads the read model, which trails the entity a little.
                && api.get("/v1/events/" + id + "/attempts", t.apiKey()).status() == 200
                && attemptsOf(id, t).size() == 1);
      }
      Response expunge = api.delete("/v1/events/" + expunged + "/payload", a.apiKey());
      assertEquals(204, expunge.status(), expunge.body());

      Map<String, JsonNode> shown = new HashMap<>();
      Map<String, List<JsonNode>> shownAttempts = new HashMap<>();
      for (String id : finalStatus.keySet()) {
        Response r = api.get("/v1/events/" + id, tenantOf.get(id).apiKey());
        assertEquals(200, r.status(), r.body());
        shown.put(id, r.json());
        shownAttempts.put(id, attemptsOf(id, tenantOf.get(id)));
      }
      assertTrue(shown.get(expunged).get("payload").isNull());
      assertFalse(shown.get(expunged).get("payload_expunged_at").isNull());

      // Back to the default period: the sweep archives and removes them.
      for (Tenant t : List.of(a, b)) retention(t, "null");
      Await.until("all three removed", PATIENCE,
          () -> finalStatus.keySet().stream().allMatch(id -> pg.journalRows(id) == 0
              && pg.count("SELECT count(*) FROM events WHERE event_id = ?::uuid", id) == 0));

      Map<String, List<ArchivedLine>> archived = readArchive(archiveDir);
      for (String id : finalStatus.keySet()) {
        List<ArchivedLine> lines = archived.getOrDefault(id, List.of());
        assertEquals(1, lines.size(), "archived once: " + id + " in " + archived.keySet());
        ArchivedLine line = lines.get(0);
        JsonNode event = shown.get(id);
        JsonNode a1 = line.json();
        Tenant t = tenantOf.get(id);
        Instant createdAt = Instant.parse(event.get("created_at").asText());

        assertEquals(
            archiveDir.resolve(t.id()).resolve(createdAt.atOffset(ZoneOffset.UTC).toLocalDate() + ".jsonl.gz"),
            line.file());
        assertEquals(id, a1.get("event_id").asText());
        assertEquals(t.id(), a1.get("tenant_id").asText());
        assertEquals(event.get("type").asText(), a1.get("type").asText());
        assertEquals(createdAt, Instant.parse(a1.get("created_at").asText()));
        assertEquals(event.get("payload"), a1.get("payload"), "payload of " + id);
        assertEquals(event.get("status").asText(), a1.get("status").asText());
        assertEquals(finalStatus.get(id), a1.get("status").asText());
        if (id.equals(expunged)) {
          assertTrue(a1.get("payload").isNull());
          assertEquals(
              Instant.parse(event.get("payload_expunged_at").asText()),
              Instant.parse(a1.get("payload_expunged_at").asText()));
        } else {
          assertTrue(a1.get("payload_expunged_at").isNull(), a1.toString());
        }

        JsonNode deliveries = a1.get("deliveries");
        assertEquals(event.get("deliveries").size(), deliveries.size());
        for (int i = 0; i < deliveries.size(); i++) {
          JsonNode want = event.get("deliveries").get(i);
          JsonNode got = deliveries.get(i);
          assertEquals(want.get("endpoint_id").asText(), got.get("endpoint_id").asText());
          assertEquals(want.get("status").asText(), got.get("status").asText());
          assertEquals(want.get("attempt_count").asInt(), got.get("attempt_count").asInt());
          assertEquals(want.get("last_error"), got.get("last_error"));
        }

        List<JsonNode> wantAttempts = shownAttempts.get(id);
        JsonNode attempts = a1.get("attempts");
        assertEquals(wantAttempts.size(), attempts.size(), "attempts of " + id);
        for (int i = 0; i < attempts.size(); i++) {
          JsonNode want = wantAttempts.get(i);
          JsonNode got = attempts.get(i);
          assertEquals(want.get("endpoint_id").asText(), got.get("endpoint_id").asText());
          assertEquals(want.get("number").asInt(), got.get("number").asInt());
          assertEquals(want.get("status_code"), got.get("status_code"));
          assertEquals(want.get("latency_ms").asLong(), got.get("latency_ms").asLong());
          assertEquals(want.get("error"), got.get("error"));
          assertEquals(Instant.parse(want.get("started_at").asText()), Instant.parse(got.get("started_at").asText()));
        }
      }
      // What was sent is what is archived, unicode and escapes included.
      assertEquals(ApiClient.JSON.readTree(RICH_PAYLOAD), archived.get(rich).get(0).json().get("payload"));
      assertEquals(200, archived.get(rich).get(0).json().get("attempts").get(0).get("status_code").asInt());
      assertEquals(410, archived.get(dead).get(0).json().get("attempts").get(0).get("status_code").asInt());
    }
  }

  @Test
  void aTornMemberLeftByAKillIsCutOffByTheNextAppend(@TempDir Path dir) throws Exception {
    RetentionArchive archive = new RetentionArchive(dir);
    String tenant = UUID.randomUUID().toString();
    Instant createdAt = Instant.parse("2024-05-06T23:59:59.123Z");
    EventEntity.State first = finished(tenant, createdAt, "{\"n\":1}");
    EventEntity.State second = finished(tenant, createdAt.plusMillis(500), "{\"n\":2}");
    EventEntity.State third = finished(tenant, createdAt.plusMillis(700), "{\"n\":3}");
    Path file = archive.fileFor(tenant, createdAt);
    assertEquals(dir.resolve(tenant).resolve("2024-05-06.jsonl.gz"), file);

    // The events have no attempts in this (migrated, empty for them) read model.
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "")) {
      RetentionArchiveAccess.write(archive, c, List.of(first, second));
      long whole = Files.size(file);
      // kill -9 in the middle of the next append: half a gzip member, and the sidecar not replaced.
      byte[] member = gzip("{\"event_id\":\"torn\"}\n".repeat(50));
      Files.write(file, Arrays.copyOf(member, member.length / 2), StandardOpenOption.APPEND);
      assertTrue(Files.size(file) > whole);

      RetentionArchiveAccess.write(archive, c, List.of(third));
    }

    List<String> lines = gunzipLines(Files.readAllBytes(file));
    assertEquals(3, lines.size(), String.join("\n", lines));
    List<String> ids = new ArrayList<>();
    for (String line : lines) {
      JsonNode json = ApiClient.JSON.readTree(line);
      ids.add(json.get("event_id").asText());
      assertEquals(tenant, json.get("tenant_id").asText());
      assertEquals(0, json.get("attempts").size());
    }
    assertEquals(
        List.of(first.received().eventId(), second.received().eventId(), third.received().eventId()), ids);
    assertEquals(3, ApiClient.JSON.readTree(lines.get(2)).get("payload").get("n").asInt());
  }

  // ---- helpers ----

  private static void retention(Tenant t, String days) {
    Response r = api.patchJson("/v1/tenants/" + t.id(), TestNode.ADMIN_KEY, "{\"retention_period_days\":" + days + "}");
    assertEquals(200, r.status(), r.body());
  }

  private static String ingest(Tenant t, String key, String payload) {
    Response r = api.ingest(t.apiKey(), key, "{\"type\":\"user.created\",\"payload\":" + payload + "}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private static List<JsonNode> attemptsOf(String id, Tenant t) {
    Response r = api.get("/v1/events/" + id + "/attempts", t.apiKey());
    assertEquals(200, r.status(), r.body());
    List<JsonNode> attempts = new ArrayList<>();
    r.json().get("data").forEach(attempts::add);
    return attempts;
  }

  private record ArchivedLine(Path file, JsonNode json) {}

  /** Every line of every archive file under {@code dir}, by event id. */
  private static Map<String, List<ArchivedLine>> readArchive(Path dir) throws IOException {
    Map<String, List<ArchivedLine>> byEvent = new HashMap<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(p -> p.getFileName().toString().endsWith(".jsonl.gz")).toList();
    }
    for (Path file : files) {
      for (String line : gunzipLines(Files.readAllBytes(file))) {
        JsonNode json = ApiClient.JSON.readTree(line);
        byEvent.computeIfAbsent(json.get("event_id").asText(), k -> new ArrayList<>()).add(new ArchivedLine(file, json));
      }
    }
    return byEvent;
  }

  private static List<String> gunzipLines(byte[] bytes) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  private static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  /** A delivered event's state, as its entity would hand it to the remover. */
  private static EventEntity.State finished(String tenant, Instant at, String payload) {
    String id = UUID.randomUUID().toString();
    EventJournal.Received r =
        new EventJournal.Received(id, tenant, "a.b", payload, "key-" + id, "sha256:x", "req", List.of("ep"), at, true);
    Delivery d = new Delivery("ep", DeliveryStatus.DELIVERED, 1, 0, null, null, List.of());
    return new EventEntity.State(r, Map.of("ep", d), null, at.plusMillis(10));
  }
}
