package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random, mostly hostile input on the routes that take it: the ingest body and its headers,
 * the list's query parameters, and endpoint bodies. Never a 5xx, every refusal is a
 * problem+json, and a refusal writes nothing (seen in the database: the journal rows of the
 * event the key would name, the endpoints journal and table).
 */
class InputPropertiesTest {
  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  private static Tenant tenant;
  private static String endpointId;

  @BeforeContainer
  static void start() throws Exception {
    pg = TestPostgres.shared();
    node = TestNode.start(pg);
    api = node.api;
    receiver = new Receiver();
    receiver.on("/ok", n -> Answer.status(200));
    tenant = api.createTenant("input-properties-" + UUID.randomUUID());
    endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
  }

  @AfterContainer
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  // ---- ingest ----

  @Property(tries = 150)
  void ingestNeverFailsAndARefusalWritesNothing(
      @ForAll("ingestBodies") String body,
      @ForAll("contentTypes") String contentType,
      @ForAll("idempotencyKeys") String key) {
    HttpRequest.Builder b = api.request("/v1/events", tenant.apiKey());
    if (contentType != null) b.header("Content-Type", contentType);
    if (key != null) b.header("Idempotency-Key", key);
    // Keys are mostly fresh, but jqwik may use one again (an edge case, a shrink): a refusal
    // must not accept anything under the key. (Its earlier event's deliveries may still be
    // journaling meanwhile, so the count is of acceptances, which only ingest writes.)
    boolean named = key != null && !key.isEmpty() && key.length() <= 255;
    long rowsBefore = named ? pg.acceptances(IngestService.eventId(tenant.id(), key)) : 0;
    Response r = api.send(b.POST(HttpRequest.BodyPublishers.ofString(body)));
    Statistics.collect(r.status());

    assertTrue(r.status() < 500, r.toString());
    if (r.status() >= 400) {
      assertProblem(r, r.status());
      if (named) {
        assertEquals(rowsBefore, pg.acceptances(IngestService.eventId(tenant.id(), key)), "nothing accepted: " + r);
      }
    } else {
      // 200: the same request again (a key used before with this very body).
      assertTrue(r.status() == 202 || r.status() == 200 && rowsBefore > 0, r.toString());
      assertEquals(IngestService.eventId(tenant.id(), key), r.json().get("event_id").asText());
    }
  }

  @Provide
  Arbitrary<String> ingestBodies() {
    Arbitrary<String> type = Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.strings().withCharRange('a', 'z').withChars('.', '_', ':', '-').ofMinLength(1).ofMaxLength(20)),
        Tuple.of(1, Arbitraries.strings().all().ofMaxLength(140)));
    Arbitrary<String> wellFormed = Combinators.combine(
            type.map(InputPropertiesTest::quote),
            Arbitraries.frequencyOf(Tuple.of(4, object(3)), Tuple.of(1, value(2))),
            Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(null)),
                Tuple.of(1, Arbitraries.just(quote(UUID.randomUUID().toString()))),
                Tuple.of(1, value(1))),
            Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(null)),
                Tuple.of(1, Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8))))
        .as((t, payload, endpoint, extra) -> "{\"type\":" + t + ",\"payload\":" + payload
            + (endpoint == null ? "" : ",\"endpoint_id\":" + endpoint)
            + (extra == null ? "" : "," + quote(extra) + ":1") + "}");
    return Arbitraries.frequencyOf(
        Tuple.of(5, wellFormed),
        Tuple.of(2, wellFormed.flatMap(InputPropertiesTest::damaged)),
        Tuple.of(1, value(3)),
        Tuple.of(1, Arbitraries.strings().all().ofMaxLength(60)));
  }

  @Provide
  Arbitrary<String> contentTypes() {
    return Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.just("application/json")),
        Tuple.of(1, Arbitraries.of("application/cloudevents+json", "application/json; charset=utf-8",
            "text/plain", "multipart/form-data; boundary=x", "application/xml", "application/octet-stream")),
        Tuple.of(1, Arbitraries.just(null)));
  }

  /** Mostly fresh valid keys; sometimes none, empty, too long, or with characters a key may not have. */
  @Provide
  Arbitrary<String> idempotencyKeys() {
    return Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.create(() -> UUID.randomUUID().toString())),
        Tuple.of(1, Arbitraries.just(null)),
        Tuple.of(1, Arbitraries.create(() -> "k" + UUID.randomUUID() + "x".repeat(300))),
        Tuple.of(1, Arbitraries.strings().withCharRange(' ', '~').ofMinLength(1).ofMaxLength(40)
            .map(s -> s.strip().isEmpty() ? "k" : s.strip() + UUID.randomUUID())));
  }

  // ---- the list's query parameters ----

  @Property(tries = 150)
  void listingNeverFailsWhateverTheQuery(@ForAll("queries") List<Map.Entry<String, String>> query) {
    String text = query.stream()
        .map(p -> enc(p.getKey()) + "=" + enc(p.getValue()))
        .collect(Collectors.joining("&"));
    long journal = endpointJournalRows();
    Response r = api.get("/v1/events" + (text.isEmpty() ? "" : "?" + text), tenant.apiKey());
    Statistics.collect(r.status());
    assertTrue(r.status() == 200 || r.status() == 400, r.toString());
    if (r.status() == 400) assertProblem(r, 400);
    else assertTrue(r.json().get("data").isArray(), r.body());
    assertEquals(journal, endpointJournalRows());
  }

  @Provide
  Arbitrary<List<Map.Entry<String, String>>> queries() {
    Arbitrary<String> name = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.of("status", "type", "endpoint_id", "since", "until", "limit", "cursor")),
        Tuple.of(1, Arbitraries.strings().all().ofMinLength(1).ofMaxLength(10)));
    Arbitrary<String> time = Arbitraries.of(
        "2026-01-31T12:00:00Z", "+999999999-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z", "0001-01-01T00:00:00+14:00", "2026-13-01T00:00:00Z", "now", "");
    Arbitrary<String> value = Arbitraries.oneOf(
        time,
        Arbitraries.of("DELIVERED", "dead_lettered", "RETRY_SCHEDULED", "nope", "0", "1", "100", "101", "-1",
            "99999999999999999999", "1e3", "user.created", "user.*", UUID.randomUUID().toString(), "MTox",
            "MzE1NTY4ODk4NjQ0MDMxOTk6MDpmb28", "%00", "../.."),
        Arbitraries.strings().all().ofMaxLength(30));
    Arbitrary<Map.Entry<String, String>> param = Combinators.combine(name, value).as(Map::entry);
    return param.list().ofMaxSize(5);
  }

  // ---- endpoint bodies ----

  @Property(tries = 120)
  void endpointBodiesNeverFailAndARefusalWritesNothing(@ForAll("endpointBodies") String body, @ForAll boolean create) {
    long journal = endpointJournalRows();
    long rows = pg.count("SELECT count(*) FROM endpoints WHERE tenant_id = ?", UUID.fromString(tenant.id()));
    Response r = create
        ? api.postJson("/v1/endpoints", tenant.apiKey(), body)
        : api.patchJson("/v1/endpoints/" + endpointId, tenant.apiKey(), body);
    Statistics.collect(create ? "create" : "patch", r.status());

    assertTrue(r.status() < 500, r.toString());
    if (r.status() >= 400) {
      assertProblem(r, r.status());
      assertEquals(journal, endpointJournalRows(), "nothing journaled: " + r);
      assertEquals(rows, pg.count("SELECT count(*) FROM endpoints WHERE tenant_id = ?", UUID.fromString(tenant.id())));
    } else {
      assertEquals(create ? 201 : 200, r.status(), r.toString());
    }
    if (!create && r.status() == 200) {
      // Keep the endpoint usable for the next tries: enabled again, whatever the body did.
      api.patchJson("/v1/endpoints/" + endpointId, tenant.apiKey(), "{\"enabled\":true}");
    }
  }

  @Provide
  Arbitrary<String> endpointBodies() {
    Arbitrary<String> field = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.of("url", "description", "event_types", "secret", "max_in_flight",
            "rate_limit_per_second", "timeout_ms", "max_attempts", "headers", "enabled")),
        Tuple.of(1, Arbitraries.strings().all().ofMinLength(1).ofMaxLength(10)));
    Arbitrary<String> url = Arbitraries.of(receiver.url("/ok"), "http://", "ftp://example.com", "http://[::1", "",
        "http://127.0.0.1:1/x", "https://example.com/" + "a".repeat(3000), "javascript:alert(1)");
    Arbitrary<String> fieldValue = Arbitraries.frequencyOf(
        Tuple.of(3, value(2)),
        Tuple.of(1, url.map(InputPropertiesTest::quote)),
        Tuple.of(1, Arbitraries.of("0", "-1", "1", "2147483648", "1e400", "1.5", "[\"a.*\",\"**\",\"\"]", "{\"X-A\":\"b\"}",
            "{\"Host\":\"x\"}", "\"whsec_\"", "\"whsec_AAAA\"")));
    Arbitrary<String> object = Combinators.combine(field, fieldValue).as((f, v) -> quote(f) + ":" + v)
        .list().ofMaxSize(6)
        .map(fields -> "{" + String.join(",", fields) + "}");
    Arbitrary<String> withUrl = Combinators.combine(object, url).as((o, u) ->
        o.equals("{}") ? "{\"url\":" + quote(u) + "}" : "{\"url\":" + quote(u) + "," + o.substring(1));
    // Mostly plausible: the right url, and one known field with a value of its kind, or not.
    Arbitrary<String> plausible = Combinators.combine(
            Arbitraries.of("description", "event_types", "max_in_flight", "rate_limit_per_second", "timeout_ms",
                "max_attempts", "headers", "enabled"),
            Arbitraries.of("\"d\"", "[\"user.*\"]", "[]", "10", "1", "1000", "1001", "30000", "true", "false", "null",
                "{\"X-Team\":\"a\"}", "{\"webhook-id\":\"x\"}", "\"\""))
        .as((f, v) -> "{\"url\":" + quote(receiver.url("/ok")) + "," + quote(f) + ":" + v + "}");
    return Arbitraries.frequencyOf(
        Tuple.of(4, plausible),
        Tuple.of(4, withUrl),
        Tuple.of(2, object),
        Tuple.of(1, object.flatMap(InputPropertiesTest::damaged)),
        Tuple.of(1, value(3)));
  }

  // ---- JSON, right and wrong ----

  private static Arbitrary<String> value(int depth) {
    Arbitrary<String> leaf = Arbitraries.oneOf(
        Arbitraries.strings().all().ofMaxLength(16).map(InputPropertiesTest::quote),
        Arbitraries.integers().map(String::valueOf),
        Arbitraries.bigIntegers().between(java.math.BigInteger.TEN.pow(30).negate(), java.math.BigInteger.TEN.pow(30))
            .map(String::valueOf),
        Arbitraries.doubles().map(d -> Double.isFinite(d) ? String.valueOf(d) : "1.0"),
        Arbitraries.of("true", "false", "null", "1e308", "-0", "0.0000001"));
    if (depth == 0) return leaf;
    return Arbitraries.frequencyOf(
        Tuple.of(3, leaf),
        Tuple.of(1, Arbitraries.lazy(() -> value(depth - 1)).list().ofMaxSize(4)
            .map(items -> "[" + String.join(",", items) + "]")),
        Tuple.of(1, Arbitraries.lazy(() -> object(depth - 1))));
  }

  private static Arbitrary<String> object(int depth) {
    return Combinators.combine(Arbitraries.strings().all().ofMaxLength(8), Arbitraries.lazy(() -> value(Math.max(0, depth - 1))))
        .as((k, v) -> quote(k) + ":" + v)
        .list().ofMaxSize(4)
        .map(fields -> "{" + String.join(",", fields) + "}");
  }

  /** A body cut short, with a byte changed, or with something after it. */
  private static Arbitrary<String> damaged(String json) {
    return Arbitraries.integers().between(0, Math.max(0, json.length() - 1)).flatMap(at ->
        Arbitraries.of(
            json.substring(0, at),
            json.substring(0, at) + "\u0000" + json.substring(at),
            json.substring(0, at) + "\"" + json.substring(at),
            json + json,
            json + " x",
            "[".repeat(2000) + json));
  }

  private static String quote(String s) {
    try {
      return ApiClient.JSON.writeValueAsString(s);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static long endpointJournalRows() {
    return pg.count("SELECT count(*) FROM event_journal WHERE persistence_id LIKE 'Endpoint|%'");
  }
}
