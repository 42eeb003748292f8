package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/events}: the read-model list, newest first, with filters and keyset
 * cursors, over a node on real PostgreSQL delivering to a real receiver. The list trails
 * the journal, so each test first waits for the read model to hold what it wrote.
 */
class EventListApiTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.shared();
    // A failed attempt waits an hour for its retry: RETRY_SCHEDULED stays put.
    node = TestNode.start(pg, Map.of("zyven.delivery.retry-schedule", List.of("1h")));
    api = node.api;
    receiver = new Receiver();
    receiver.on("/ok", n -> Answer.status(200));
    receiver.on("/bad", n -> Answer.status(400));
    receiver.on("/retry", n -> Answer.status(503));
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    node.close();
  }

  // ---- order, limit, cursor ----

  @Test
  void newestFirstTwentyByDefaultAndNoCursorOnTheLastPage() {
    Tenant t = tenant();
    endpoint(t, "/ok", "[]");
    List<String> ids = ingestMany(t, 25, "order.paid");
    awaitListed(t, 25);
    List<String> newestFirst = reversed(ids);

    Response first = list(t, "");
    assertEquals(200, first.status(), first.body());
    assertTrue(first.contentType().startsWith("application/json"), first.contentType());
    JsonNode page = first.json();
    assertEquals(newestFirst.subList(0, 20), ids(page), "newest first, 20 by default");
    assertTrue(page.get("next_cursor").isTextual(), page.toString());
    JsonNode item = page.get("data").get(0);
    assertEquals("order.paid", item.get("type").asText());
    assertTrue(item.hasNonNull("status") && item.hasNonNull("created_at"), item.toString());
    assertEquals(1, item.get("deliveries").size(), item.toString());
    assertTrue(item.get("deliveries").get(0).hasNonNull("endpoint_id"), item.toString());

    JsonNode last = list(t, "cursor=" + page.get("next_cursor").asText()).json();
    assertEquals(newestFirst.subList(20, 25), ids(last));
    assertTrue(last.has("next_cursor") && last.get("next_cursor").isNull(), "null on the last page: " + last);

    // A last page that is exactly full has no cursor either.
    List<String> walked = walk(t, "limit=5", 5);
    assertEquals(newestFirst, walked);
  }

  @Test
  void limitIsFromOneToAHundred() {
    Tenant t = tenant();
    endpoint(t, "/ok", "[]");
    ingestMany(t, 105, "bulk.created");
    awaitListed(t, 105);

    JsonNode hundred = list(t, "limit=100").json();
    assertEquals(100, hundred.get("data").size());
    assertTrue(hundred.get("next_cursor").isTextual());
    assertEquals(5, list(t, "limit=100&cursor=" + hundred.get("next_cursor").asText()).json().get("data").size());
    JsonNode one = list(t, "limit=1").json();
    assertEquals(1, one.get("data").size());
    assertTrue(one.get("next_cursor").isTextual());

    for (String bad : List.of("101", "0", "-1", "1000000", "ten", "", "1.5")) {
      assertProblem(list(t, "limit=" + bad), 400);
    }
  }

  @Test
  void aCursorThatThisApiDidNotGiveOutIs400() {
    Tenant t = tenant();
    endpoint(t, "/ok", "[]");
    ingestMany(t, 1, "a.b");
    awaitListed(t, 1);
    for (String raw : List.of("1:2", "a:b:c", "1:2:not-a-uuid", "1:2:3:4", "")) {
      String cursor = Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
      assertProblem(list(t, "cursor=" + cursor), 400);
    }
    assertProblem(list(t, "cursor=" + enc("%%%")), 400);
    assertProblem(list(t, "cursor=" + enc("not base64!")), 400);
  }

  @Test
  void unknownParametersAre400() {
    Tenant t = tenant();
    Response typo = list(t, "stauts=DELIVERED");
    assertEquals("unknown query parameter 'stauts'; the parameters are status, type, endpoint_id, since, until, limit, cursor",
        assertProblem(typo, 400, "invalid-request"));
    assertProblem(list(t, "offset=20"), 400);
    assertProblem(list(t, "page=2&limit=10"), 400);
    assertProblem(list(t, "tenant_id=" + UUID.randomUUID()), 400);
  }

  // ---- filters ----

  @Test
  void statusFilterListsOnlyEventsInThatStatus() {
    Tenant t = tenant();
    String ok = endpoint(t, "/ok", "[]");
    String bad = endpoint(t, "/bad", "[]");
    String retry = endpoint(t, "/retry", "[]");
    List<String> delivered = ingestTo(t, ok, 3);
    List<String> dead = ingestTo(t, bad, 3);
    List<String> retrying = ingestTo(t, retry, 3);
    awaitStatuses(t, Map.of("DELIVERED", 3L, "DEAD_LETTERED", 3L, "RETRY_SCHEDULED", 3L));

    assertEquals(reversed(delivered), ids(list(t, "status=DELIVERED").json()));
    assertEquals(reversed(dead), ids(list(t, "status=DEAD_LETTERED").json()));
    assertEquals(reversed(retrying), ids(list(t, "status=RETRY_SCHEDULED").json()));
    for (JsonNode e : list(t, "status=RETRY_SCHEDULED").json().get("data")) {
      assertEquals("RETRY_SCHEDULED", e.get("status").asText());
      JsonNode d = e.get("deliveries").get(0);
      assertEquals("RETRY_SCHEDULED", d.get("status").asText());
      assertTrue(d.hasNonNull("next_attempt_at"), e.toString());
      assertEquals("HTTP 503", d.get("last_error").asText());
    }
    assertEquals(List.of(), ids(list(t, "status=RECEIVED").json()));
    assertEquals(9, ids(list(t, "").json()).size());
    assertProblem(list(t, "status=FAILED"), 400);
    assertProblem(list(t, "status="), 400);
  }

  @Test
  void statusIsCaseInsensitiveAndAnUnknownOneListsTheStatuses() {
    Tenant t = tenant();
    String ok = endpoint(t, "/ok", "[]");
    String bad = endpoint(t, "/bad", "[]");
    List<String> delivered = ingestTo(t, ok, 2);
    List<String> dead = ingestTo(t, bad, 2);
    awaitStatuses(t, Map.of("DELIVERED", 2L, "DEAD_LETTERED", 2L));

    List<String> upper = ids(list(t, "status=DELIVERED").json());
    assertEquals(reversed(delivered), upper);
    assertEquals(upper, ids(list(t, "status=delivered").json()));
    assertEquals(upper, ids(list(t, "status=Delivered").json()));
    assertEquals(reversed(dead), ids(list(t, "status=dead_lettered").json()));
    assertEquals(reversed(dead), ids(list(t, "status=dead_lettered&endpoint_id=" + bad).json()));

    String detail = assertProblem(list(t, "status=failed"), 400, "invalid-request");
    assertEquals("status must be one of RECEIVED, DISPATCHING, RETRY_SCHEDULED, DELIVERED, DEAD_LETTERED, CANCELLED"
        + " (in any case), got 'failed'", detail);
  }

  @Test
  void typeFilterListsOnlyThatType() {
    Tenant t = tenant();
    endpoint(t, "/ok", "[]");
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      created.add(ingest(t, "user.created", null));
      ingest(t, "user.deleted", null);
      ingest(t, "order.paid", null);
    }
    awaitListed(t, 9);

    assertEquals(reversed(created), ids(list(t, "type=user.created").json()));
    assertEquals(3, ids(list(t, "type=order.paid").json()).size());
    assertEquals(List.of(), ids(list(t, "type=user.updated").json()));
    assertEquals(List.of(), ids(list(t, "type=user").json()), "an exact match, not a prefix");
    assertProblem(list(t, "type=" + enc("not a type!")), 400);
  }

  @Test
  void endpointFilterListsThatEndpointsDeliveriesAndStatusMeansThatDeliverysStatus() {
    Tenant t = tenant();
    String ok = endpoint(t, "/ok", "[\"ok.*\",\"mix.*\"]");
    String bad = endpoint(t, "/bad", "[\"mix.*\"]");
    List<String> onlyOk = new ArrayList<>();
    List<String> mixed = new ArrayList<>();
    List<String> all = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      onlyOk.add(ingest(t, "ok.created", null));
      all.add(onlyOk.get(i));
      if (i < 2) {
        mixed.add(ingest(t, "mix.created", null));
        all.add(mixed.get(i));
      }
    }
    // ok.* goes to /ok only; mix.* to both, dead-lettered by /bad.
    awaitStatuses(t, Map.of("DELIVERED", 3L, "DEAD_LETTERED", 2L));
    Await.until("every delivery projected", PATIENCE, () -> pg.count(
        "SELECT count(*) FROM deliveries WHERE tenant_id = ? AND status IN ('DELIVERED', 'DEAD_LETTERED')",
        UUID.fromString(t.id())) == 7);

    assertEquals(reversed(all), ids(list(t, "endpoint_id=" + ok).json()));
    assertEquals(reversed(mixed), ids(list(t, "endpoint_id=" + bad).json()));
    assertEquals(reversed(mixed), ids(list(t, "endpoint_id=" + bad + "&status=DEAD_LETTERED").json()),
        "that endpoint's dead letters");
    assertEquals(List.of(), ids(list(t, "endpoint_id=" + ok + "&status=DEAD_LETTERED").json()),
        "the mixed events are dead-lettered, but not their delivery to this endpoint");
    assertEquals(reversed(all), ids(list(t, "endpoint_id=" + ok + "&status=DELIVERED").json()),
        "every delivery to this endpoint succeeded, whatever its event's status");
    assertEquals(List.of(), ids(list(t, "endpoint_id=" + bad + "&status=DELIVERED").json()));
    assertEquals(reversed(mixed), ids(list(t, "status=DEAD_LETTERED").json()), "the events' own status");
    assertEquals(reversed(mixed), ids(list(t, "endpoint_id=" + ok + "&type=mix.created").json()));

    // The endpoint's keyset pages.
    assertEquals(reversed(all), walk(t, "endpoint_id=" + ok + "&limit=2", 2));
    assertEquals(List.of(), ids(list(t, "endpoint_id=" + UUID.randomUUID()).json()));
    assertEquals("endpoint_id must be a UUID, got 'not-an-id'",
        assertProblem(list(t, "endpoint_id=not-an-id"), 400, "invalid-request"));
  }

  @Test
  void sinceIsInclusiveAndUntilExclusive() {
    Tenant t = tenant();
    String ok = endpoint(t, "/ok", "[]");
    List<String> ids = ingestMany(t, 6, "window.test");
    awaitListed(t, 6);
    Map<String, String> createdAt = new LinkedHashMap<>();
    list(t, "").json().get("data").forEach(e -> createdAt.put(e.get("id").asText(), e.get("created_at").asText()));
    String since = createdAt.get(ids.get(1));
    String until = createdAt.get(ids.get(4));
    List<String> window = reversed(ids.subList(1, 4));

    assertEquals(window, ids(list(t, "since=" + enc(since) + "&until=" + enc(until)).json()));
    assertEquals(window, ids(list(t, "endpoint_id=" + ok + "&since=" + enc(since) + "&until=" + enc(until)).json()));
    assertEquals(reversed(ids.subList(1, 6)), ids(list(t, "since=" + enc(since)).json()));
    assertEquals(reversed(ids.subList(0, 4)), ids(list(t, "until=" + enc(until)).json()));
    assertEquals(window, walk(t, "since=" + enc(since) + "&until=" + enc(until) + "&limit=1", 1), "paging within the window");
    // An offset other than Z names the same instant.
    String plusTwo = Instant.parse(since).atOffset(java.time.ZoneOffset.ofHours(2)).toString();
    assertEquals(reversed(ids.subList(1, 6)), ids(list(t, "since=" + enc(plusTwo)).json()));
    assertEquals(List.of(), ids(list(t, "until=" + enc(createdAt.get(ids.get(0)))).json()));

    assertProblem(list(t, "since=" + enc(until) + "&until=" + enc(since)), 400);
    assertProblem(list(t, "since=" + enc(since) + "&until=" + enc(since)), 400);
    assertProblem(list(t, "since=yesterday"), 400);
    assertProblem(list(t, "until=2026-13-01T00:00:00Z"), 400);
  }

  // ---- tenants ----

  @Test
  void anotherTenantsEventsAreNeverListed() {
    Tenant a = tenant();
    Tenant b = tenant();
    String aEndpoint = endpoint(a, "/ok", "[]");
    endpoint(b, "/ok", "[]");
    List<String> bIds = ingestMany(b, 3, "shared.type");
    List<String> aIds = ingestMany(a, 4, "shared.type");
    awaitListed(a, 4);
    awaitListed(b, 3);

    assertEquals(reversed(aIds), ids(list(a, "limit=100").json()));
    assertEquals(reversed(bIds), ids(list(b, "limit=100").json()));
    assertEquals(reversed(bIds), ids(list(b, "type=shared.type").json()));
    awaitStatuses(b, Map.of("DELIVERED", 3L));
    assertEquals(reversed(bIds), ids(list(b, "status=DELIVERED").json()));
    assertEquals(List.of(), ids(list(b, "endpoint_id=" + aEndpoint).json()), "another tenant's endpoint");

    // A's cursor (newer than all of B's events) in B's hands pages through B's events only.
    String aCursor = list(a, "limit=1").json().get("next_cursor").asText();
    assertEquals(reversed(bIds), ids(list(b, "limit=100&cursor=" + aCursor).json()));

    assertEquals(401, api.get("/v1/events", null).status());
  }

  // ---- keyset pages under concurrent ingest ----

  @Test
  void pagesNeitherRepeatNorLoseEventsWhileNewOnesArrive() throws Exception {
    Tenant t = tenant();
    endpoint(t, "/ok", "[]");
    List<String> initial = ingestMany(t, 150, "page.before");
    awaitListed(t, 150);
    UUID tenantId = UUID.fromString(t.id());

    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger written = new AtomicInteger();
    AtomicReference<String> writerError = new AtomicReference<>();
    Thread writer = new Thread(() -> {
      for (int i = 0; !stop.get(); i++) {
        Response r = api.ingest(t.apiKey(), "late-" + i, "{\"type\":\"page.during\",\"payload\":{\"i\":" + i + "}}");
        if (r.status() != 202) {
          writerError.set(r.status() + " " + r.body());
          return;
        }
        written.incrementAndGet();
      }
    }, "concurrent-ingest");
    writer.start();
    List<String> walked = new ArrayList<>();
    List<Instant> times = new ArrayList<>();
    long rowsAtStart;
    long rowsAtEnd;
    try {
      Await.until("new events projected before the walk", PATIENCE,
          () -> pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", tenantId) > 150);
      rowsAtStart = pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", tenantId);
      String cursor = null;
      do {
        long before = pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", tenantId);
        Response r = list(t, "limit=25" + (cursor == null ? "" : "&cursor=" + cursor));
        assertEquals(200, r.status(), r.body());
        JsonNode page = r.json();
        assertTrue(page.get("data").size() <= 25);
        page.get("data").forEach(e -> {
          walked.add(e.get("id").asText());
          times.add(Instant.parse(e.get("created_at").asText()));
        });
        cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asText();
        // Between two pages, more events arrive in the read model.
        Await.until("another event projected between pages", PATIENCE,
            () -> writerError.get() != null
                || pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", tenantId) > before);
      } while (cursor != null);
      rowsAtEnd = pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", tenantId);
    } finally {
      stop.set(true);
      writer.join(30_000);
    }
    assertNull(writerError.get(), "concurrent ingest failed");
    assertTrue(rowsAtEnd > rowsAtStart, "events were inserted while the pages were walked");

    Set<String> unique = new HashSet<>(walked);
    assertEquals(walked.size(), unique.size(), "an event appeared on two pages");
    assertTrue(unique.containsAll(initial), "lost " + initial.stream().filter(id -> !unique.contains(id)).toList());
    for (int i = 1; i < times.size(); i++) {
      assertFalse(times.get(i).isAfter(times.get(i - 1)), "newest first across pages, at " + i);
    }
    assertTrue(walked.size() > 150, "the first page saw events ingested meanwhile");
  }

  // ---- helpers ----

  private static Tenant tenant() {
    return api.createTenant("list-" + UUID.randomUUID());
  }

  private static String endpoint(Tenant t, String path, String eventTypes) {
    return api.createEndpoint(t.apiKey(),
        "{\"url\":\"" + receiver.url(path) + "\",\"event_types\":" + eventTypes + ",\"max_attempts\":3}");
  }

  private static String ingest(Tenant t, String type, String endpointId) {
    String target = endpointId == null ? "" : ",\"endpoint_id\":\"" + endpointId + "\"";
    Response r = api.ingest(t.apiKey(), UUID.randomUUID().toString(),
        "{\"type\":\"" + type + "\",\"payload\":{}" + target + "}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  /** Ingested one after the other, so each is newer than the one before. */
  private static List<String> ingestMany(Tenant t, int n, String type) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) ids.add(ingest(t, type, null));
    return ids;
  }

  private static List<String> ingestTo(Tenant t, String endpointId, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) ids.add(ingest(t, "any.thing", endpointId));
    return ids;
  }

  private static Response list(Tenant t, String query) {
    return api.get("/v1/events" + (query.isEmpty() ? "" : "?" + query), t.apiKey());
  }

  /** Every page of a query, following next_cursor; each page holds at most {@code limit}. */
  private static List<String> walk(Tenant t, String query, int limit) {
    List<String> ids = new ArrayList<>();
    String cursor = null;
    for (int pages = 0; pages < 1000; pages++) {
      JsonNode page = list(t, query + (cursor == null ? "" : "&cursor=" + cursor)).json();
      List<String> these = ids(page);
      assertTrue(these.size() <= limit && !these.isEmpty(), page.toString());
      ids.addAll(these);
      if (page.get("next_cursor").isNull()) return ids;
      cursor = page.get("next_cursor").asText();
    }
    throw new AssertionError("no last page");
  }

  private static List<String> ids(JsonNode page) {
    List<String> ids = new ArrayList<>();
    page.get("data").forEach(e -> ids.add(e.get("id").asText()));
    return ids;
  }

  private static List<String> reversed(List<String> ids) {
    List<String> r = new ArrayList<>(ids);
    Collections.reverse(r);
    return r;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static void awaitListed(Tenant t, long n) {
    Await.until(n + " events in the read model", PATIENCE,
        () -> pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", UUID.fromString(t.id())) == n);
  }

  private static void awaitStatuses(Tenant t, Map<String, Long> counts) {
    counts.forEach((status, n) -> Await.until(n + " events " + status + " in the read model", PATIENCE,
        () -> pg.count("SELECT count(*) FROM events WHERE tenant_id = ? AND status = ?",
            UUID.fromString(t.id()), status) == n));
  }
}
