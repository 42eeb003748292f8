package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.ingest.IngestService;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile input, one kind per test, against a real node: each gets a 4xx problem+json (never
 * a 5xx, never the server's plain-text error) and writes nothing, which is checked in the
 * database: the tenant's journal rows, read-model events and endpoints before and after.
 */
class HostileInputApiTest {
  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  private static int port;

  private Tenant tenant;
  private String endpointId;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.shared();
    node = TestNode.start(pg);
    api = node.api;
    port = node.zyven().httpPort();
    receiver = new Receiver();
    receiver.on("/ok", n -> Answer.status(200));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  @BeforeEach
  void newTenant() {
    tenant = api.createTenant("hostile-" + UUID.randomUUID());
    endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
  }

  // ---- timestamps and cursors out of range ----

  @Test
  void farFutureOrFarPastTimesAreRefusedWhereverATimeIsTaken() {
    assertWritesNothing(() -> {
      for (String t : List.of("%2B999999999-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z", "10000-01-01T00:00:00Z")) {
        assertTrue(assertProblem(api.get("/v1/events?since=" + t, tenant.apiKey()), 400, "invalid-request")
            .contains("from year 0001 to 9999"));
        assertProblem(api.get("/v1/events?until=" + t, tenant.apiKey()), 400, "invalid-request");
      }
      assertProblem(api.postJson("/v1/endpoints/" + endpointId + "/recover", tenant.apiKey(),
          "{\"since\":\"+999999999-01-01T00:00:00Z\"}"), 400, "invalid-request");
      assertProblem(api.postJson("/v1/endpoints/" + endpointId + "/recover", tenant.apiKey(),
          "{\"since\":\"2026-01-01T00:00:00Z\",\"until\":\"+999999999-01-01T00:00:00Z\"}"), 400, "invalid-request");
      assertProblem(api.get("/v1/stats?window=999999999999h", tenant.apiKey()), 400, "invalid-request");
    });
  }

  @Test
  void forgedHugeOrMalformedCursorsAreRefused() {
    List<String> cursors = List.of(
        cursor("31556889864403199:0:" + UUID.randomUUID()), // the largest second an Instant has
        cursor("-31557014167219200:0:" + UUID.randomUUID()),
        cursor("9223372036854775807:0:" + UUID.randomUUID()),
        cursor("1:999999999999:" + UUID.randomUUID()),
        cursor("1:0:not-a-uuid"),
        "A".repeat(1_000), // longer than any cursor given out, shorter than the server's URI limit
        "%FF%FE",
        "!!!");
    assertWritesNothing(() -> {
      for (String c : cursors) {
        assertEquals("cursor is not one this API gave out",
            assertProblem(api.get("/v1/events?cursor=" + c, tenant.apiKey()), 400, "invalid-request"), c);
      }
    });
  }

  // ---- invalid UTF-8 ----

  @Test
  void invalidUtf8InABodyIsMalformedJson() {
    byte[] ingest = concat("{\"type\":\"t\",\"payload\":{\"s\":\"", new byte[] {(byte) 0xC3, 0x28}, "\"}}");
    byte[] endpoint = concat("{\"url\":\"" + receiver.url("/ok") + "\",\"description\":\"", new byte[] {(byte) 0xFF}, "\"}");
    String key = "utf8-" + UUID.randomUUID();
    assertWritesNothing(() -> {
      assertProblem(api.send(api.request("/v1/events", tenant.apiKey()).header("Content-Type", "application/json")
          .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofByteArray(ingest))), 400, "malformed-json");
      assertProblem(api.send(api.request("/v1/endpoints", tenant.apiKey()).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(endpoint))), 400, "malformed-json");
      assertProblem(api.send(api.request("/v1/endpoints/" + endpointId, tenant.apiKey())
          .header("Content-Type", "application/json")
          .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(endpoint))), 400, "malformed-json");
    });
    assertEquals(0, pg.journalRows(IngestService.eventId(tenant.id(), key)));
  }

  @Test
  void invalidUtf8InAQueryStringIsRefused() {
    assertWritesNothing(() -> {
      assertProblem(api.get("/v1/events?type=%FF%FE", tenant.apiKey()), 400, "invalid-request");
      assertProblem(api.get("/v1/events?status=%C3%28", tenant.apiKey()), 400, "invalid-request");
      assertProblem(api.get("/v1/events?%FF=1", tenant.apiKey()), 400, "invalid-request");
      // Raw bytes, not percent-encoded, as no well-behaved client sends them.
      RawResponse raw = raw(concat("GET /v1/events?type=", new byte[] {(byte) 0xFF, (byte) 0xC3},
          " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tenant.apiKey() + "\r\nConnection: close\r\n\r\n"));
      assertRawProblem(raw, 400);
    });
  }

  @Test
  void invalidUtf8InHeadersIsRefused() {
    String key = "hdr-" + UUID.randomUUID();
    assertWritesNothing(() -> {
      byte[] body = "{\"type\":\"t\",\"payload\":{}}".getBytes(StandardCharsets.UTF_8);
      RawResponse badKey = raw(concat(
          "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tenant.apiKey()
              + "\r\nContent-Type: application/json\r\nIdempotency-Key: " + key,
          new byte[] {(byte) 0xFF, (byte) 0xC3, 0x28},
          "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n" + new String(body, StandardCharsets.UTF_8)));
      assertRawProblem(badKey, 400);
      RawResponse badAuth = raw(concat("GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
          new byte[] {(byte) 0xFF, (byte) 0xFE}, "\r\nConnection: close\r\n\r\n"));
      assertRawProblem(badAuth, 400); // the server refuses a header value that is not text
    });
  }

  // ---- JSON nested deep, numbers long ----

  @Test
  void jsonNestedTenThousandDeepIsRefusedOnEveryJsonRoute() {
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    String key = "deep-" + UUID.randomUUID();
    assertWritesNothing(() -> {
      String detail = assertProblem(api.ingest(tenant.apiKey(), key, "{\"type\":\"t\",\"payload\":{\"a\":" + deep + "}}"),
          400, "malformed-json");
      assertTrue(detail.startsWith("the JSON is nested more than"), detail);
      assertTrue(assertProblem(api.postJson("/v1/endpoints", tenant.apiKey(),
          "{\"url\":\"" + receiver.url("/ok") + "\",\"headers\":" + deep + "}"), 400, "malformed-json")
          .startsWith("the JSON is nested more than"));
      assertProblem(api.patchJson("/v1/endpoints/" + endpointId, tenant.apiKey(), "{\"description\":" + deep + "}"),
          400, "malformed-json");
      assertProblem(api.postJson("/v1/endpoints/" + endpointId + "/recover", tenant.apiKey(), deep), 400, "malformed-json");
      assertProblem(api.postJson("/v1/events/" + UUID.randomUUID() + "/replay", tenant.apiKey(), deep), 400, "malformed-json");
      assertProblem(api.postJson("/v1/portal-sessions", tenant.apiKey(), deep), 400, "malformed-json");
    });
    assertEquals(0, pg.journalRows(IngestService.eventId(tenant.id(), key)));
  }

  @Test
  void aPayloadAsDeepAsIngestTakesCanBeReadBack() {
    // The body may be 1000 levels deep: the body object, the payload, then 998 arrays.
    String payload = "{\"a\":" + "[".repeat(998) + "]".repeat(998) + "}";
    Response accepted = api.ingest(tenant.apiKey(), "deepest-" + UUID.randomUUID(), "{\"type\":\"t\",\"payload\":" + payload + "}");
    assertEquals(202, accepted.status(), accepted.body());
    String id = accepted.json().get("event_id").asText();
    Response event = api.get("/v1/events/" + id, tenant.apiKey());
    assertEquals(200, event.status(), event.body());
    Response audit = api.get("/v1/events/" + id + "/audit", tenant.apiKey());
    assertEquals(200, audit.status(), audit.body());
    Response deeper = api.ingest(tenant.apiKey(), "deeper-" + UUID.randomUUID(),
        "{\"type\":\"t\",\"payload\":{\"a\":" + "[".repeat(999) + "]".repeat(999) + "}}");
    assertProblem(deeper, 400, "malformed-json");
  }

  @Test
  void numbersOfTenThousandDigitsAreRefused() {
    String digits = "9".repeat(10_000);
    String key = "digits-" + UUID.randomUUID();
    assertWritesNothing(() -> {
      for (String n : List.of(digits, "-" + digits, "0." + digits, "1e" + digits)) {
        String detail = assertProblem(api.ingest(tenant.apiKey(), key, "{\"type\":\"t\",\"payload\":{\"n\":" + n + "}}"),
            400, "malformed-json");
        assertTrue(detail.contains("longer than"), detail);
      }
      assertProblem(api.postJson("/v1/endpoints", tenant.apiKey(),
          "{\"url\":\"" + receiver.url("/ok") + "\",\"max_in_flight\":" + digits + "}"), 400, "malformed-json");
      assertProblem(api.patchJson("/v1/endpoints/" + endpointId, tenant.apiKey(), "{\"timeout_ms\":" + digits + "}"),
          400, "malformed-json");
    });
    assertEquals(0, pg.journalRows(IngestService.eventId(tenant.id(), key)));
  }

  // ---- huge headers, URIs and request lines: refused by the server's parser ----

  @Test
  void whatTheServerCannotParseIsAProblemToo() {
    assertWritesNothing(() -> {
      String big = "x".repeat(20_000);
      assertRawProblem(raw(request("GET /v1/events", "X-Big: " + big)), 431);
      assertRawProblem(raw(request("GET /v1/events", "Authorization: Bearer " + big)), 431);
      StringBuilder many = new StringBuilder();
      for (int i = 0; i < 200; i++) many.append("X-H").append(i).append(": v\r\n");
      assertRawProblem(raw(request("GET /v1/events", many.toString().strip())), 400); // Pekko's status for a header count
      assertRawProblem(raw(request("GET /v1/events?type=" + "a".repeat(10_000), "X-A: b")), 414);
      assertRawProblem(raw("NOT A REQUEST\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), 400);
      assertRawProblem(raw("BREW /v1/events HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), 400);
      assertRawProblem(raw("GET /v1/events HTTP/9.9\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), 400);
      assertRawProblem(raw(request("GET /v1/events?type=%zz", "X-A: b")), 400);
      // A declared body over the server's own limit: refused before any route reads it.
      RawResponse huge = raw(("POST /v1/endpoints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tenant.apiKey()
          + "\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n{")
          .getBytes(StandardCharsets.US_ASCII));
      assertRawProblem(huge, 413);
    });
  }

  // ---- duplicate query parameters ----

  @Test
  void aQueryParameterGivenTwiceIsRefusedNamingIt() {
    assertWritesNothing(() -> {
      assertEquals("query parameter 'status' is given more than once", assertProblem(
          api.get("/v1/events?status=DELIVERED&status=DEAD_LETTERED", tenant.apiKey()), 400, "duplicate-parameter"));
      assertProblem(api.get("/v1/events?limit=5&limit=5", tenant.apiKey()), 400, "duplicate-parameter");
      assertProblem(api.get("/v1/events?cursor=a&type=t&cursor=b", tenant.apiKey()), 400, "duplicate-parameter");
      assertProblem(api.get("/v1/stats?window=1h&window=15m", tenant.apiKey()), 400, "duplicate-parameter");
    });
  }

  // ---- ids with path traversal or NUL bytes ----

  @Test
  void idsWithPathTraversalOrNulAreInvalidIdsNeverServerErrors() {
    List<String> ids = List.of("%2e%2e%2f", "..%2F..%2Fv1%2Ftenants", "%00", UUID.randomUUID() + "%00", "%FF%FE",
        "%2e%2e", "%2F", "a%0d%0aX-Injected:%201");
    assertWritesNothing(() -> {
      for (String id : ids) {
        for (Response r : List.of(
            api.get("/v1/events/" + id, tenant.apiKey()),
            api.get("/v1/events/" + id + "/audit", tenant.apiKey()),
            api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(), ""),
            api.postJson("/v1/events/" + id + "/retry", tenant.apiKey(), ""),
            api.get("/v1/endpoints/" + id, tenant.apiKey()),
            api.patchJson("/v1/endpoints/" + id, tenant.apiKey(), "{\"enabled\":false}"),
            api.delete("/v1/endpoints/" + id, tenant.apiKey()),
            api.postJson("/v1/endpoints/" + id + "/enable", tenant.apiKey(), ""),
            api.postJson("/v1/endpoints/" + id + "/rotate-secret", tenant.apiKey(), ""),
            api.get("/v1/endpoints/" + id + "/health", tenant.apiKey()),
            api.postJson("/v1/tenants/" + id + "/keys", TestNode.ADMIN_KEY, ""))) {
          assertTrue(r.status() == 400 || r.status() == 404, id + ": " + r);
          assertProblem(r, r.status(), r.status() == 400 ? "invalid-id" : "not-found");
          assertTrue(r.header("X-Injected").isEmpty());
        }
      }
    });
  }

  // ---- wrong content types ----

  @Test
  void everyRouteWithABodyTakesOnlyJson() {
    String endpoint = "{\"url\":\"" + receiver.url("/ok") + "\"}";
    String key = "ct-" + UUID.randomUUID();
    String other = UUID.randomUUID().toString();
    List<Supplier<HttpRequest.Builder>> routes = List.of(
        () -> api.request("/v1/tenants", TestNode.ADMIN_KEY),
        () -> api.request("/v1/endpoints", tenant.apiKey()),
        () -> api.request("/v1/endpoints/" + endpointId + "/recover", tenant.apiKey()),
        () -> api.request("/v1/events", tenant.apiKey()).header("Idempotency-Key", key),
        () -> api.request("/v1/events/" + other + "/replay", tenant.apiKey()),
        () -> api.request("/v1/events/" + other + "/retry", tenant.apiKey()),
        () -> api.request("/v1/portal-sessions", tenant.apiKey()));
    long tenants = pg.count("SELECT count(*) FROM tenants");
    assertWritesNothing(() -> {
      for (String type : new String[] {"text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
          "application/xml", "application/jsonx", "text/json", null}) {
        for (Supplier<HttpRequest.Builder> route : routes) {
          HttpRequest.Builder b = route.get();
          if (type != null) b.header("Content-Type", type);
          assertProblem(api.send(b.POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}"))),
              415, "unsupported-media-type");
        }
        HttpRequest.Builder patch = api.request("/v1/endpoints/" + endpointId, tenant.apiKey());
        if (type != null) patch.header("Content-Type", type);
        assertProblem(api.send(patch.method("PATCH", HttpRequest.BodyPublishers.ofString("{\"enabled\":false}"))),
            415, "unsupported-media-type");
      }
    });
    assertEquals(tenants, pg.count("SELECT count(*) FROM tenants"));
    assertEquals(0, pg.journalRows(IngestService.eventId(tenant.id(), key)));
  }

  @Test
  void anyJsonTypeIsTakenOnEveryRouteWithABody() {
    Response created = api.send(api.request("/v1/endpoints", tenant.apiKey())
        .header("Content-Type", "application/vnd.example+json; charset=utf-8")
        .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"" + receiver.url("/ok") + "\"}")));
    assertEquals(201, created.status(), created.body());
    Response patched = api.send(api.request("/v1/endpoints/" + endpointId, tenant.apiKey())
        .header("Content-Type", "application/merge-patch+json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"description\":\"d\"}")));
    assertEquals(200, patched.status(), patched.body());
  }

  // ---- helpers ----

  /** Runs the requests, and checks the tenant's journal rows, events and endpoints did not change. */
  private void assertWritesNothing(Runnable requests) {
    Writes before = Writes.of(pg, tenant.id());
    requests.run();
    assertEquals(before, Writes.of(pg, tenant.id()), "nothing written");
  }

  private static String cursor(String raw) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] concat(Object... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object p : parts) {
      byte[] b = p instanceof byte[] bytes ? bytes : p.toString().getBytes(StandardCharsets.UTF_8);
      out.writeBytes(b);
    }
    return out.toByteArray();
  }

  private byte[] request(String requestLine, String headers) {
    return (requestLine + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tenant.apiKey() + "\r\n" + headers
        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.UTF_8);
  }

  record RawResponse(int status, String contentType, String body) {}

  /** Bytes sent as they are, as a client that breaks HTTP would send them; the answer read to the close. */
  private static RawResponse raw(byte[] request) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
      } catch (IOException e) {
        // The server may answer and close before it has read everything we send.
      }
      InputStream in = s.getInputStream();
      String text = new String(readAll(in), StandardCharsets.UTF_8);
      int headEnd = text.indexOf("\r\n\r\n");
      String head = headEnd < 0 ? text : text.substring(0, headEnd);
      String contentType = "";
      for (String line : head.split("\r\n")) {
        if (line.toLowerCase().startsWith("content-type:")) contentType = line.substring(13).trim();
      }
      String body = headEnd < 0 ? "" : text.substring(headEnd + 4);
      int status = Integer.parseInt(head.split(" ")[1]);
      return new RawResponse(status, contentType, body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    try {
      for (int n; (n = in.read(chunk)) >= 0; ) buf.write(chunk, 0, n);
    } catch (java.net.SocketException e) {
      // a reset after the answer: what was read is the answer
    }
    return buf.toByteArray();
  }

  private static void assertRawProblem(RawResponse r, int status) {
    assertEquals(status, r.status(), r.body());
    assertEquals("application/problem+json", r.contentType(), r.body());
    // A chunked body would need decoding; these answers are small and strict.
    Response asClient = new Response(r.status(), java.util.Map.of("Content-Type", List.of(r.contentType())), r.body());
    assertProblem(asClient, status);
    assertNotEquals("", asClient.json().get("type").asText());
  }

  /** What a tenant has written: journal rows of its events and endpoints, read-model events, endpoints. */
  record Writes(long journal, long events, long endpoints) {
    static Writes of(TestPostgres pg, String tenantId) {
      UUID t = UUID.fromString(tenantId);
      return new Writes(
          pg.count("SELECT count(*) FROM event_journal j WHERE j.persistence_id IN ("
              + " SELECT 'Event|' || event_id FROM events WHERE tenant_id = ?"
              + " UNION SELECT 'Endpoint|' || id FROM endpoints WHERE tenant_id = ?)", t, t),
          pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", t),
          pg.count("SELECT count(*) FROM endpoints WHERE tenant_id = ?", t));
    }
  }
}
