package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.swagger.v3.oas.models.SpecVersion;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /openapi.json} and {@code GET /docs} on a running node: the spec is valid
 * OpenAPI 3.1, it lists exactly the routes the server has, and the reference page loads
 * only what the node serves. (That real responses match the spec's schemas is
 * {@link OpenApiResponsesTest}.)
 *
 * <p>Two 404s must be told apart here: a route's own "no such thing" (detail {@code no
 * event <id>}, ...), which is a served path, and Pekko's "no route took this path", which
 * {@link Problems#fromRejection} answers with the detail {@link Problems#NO_SUCH_PATH}.
 */
class OpenApiTest {

  /**
   * Every route the server serves, read from {@link HttpApi#route()}, {@link ConsoleRoutes}
   * and {@link DocsRoutes}.
   * Pekko cannot list its routes at run time, so this list is kept by hand; the probes
   * below check it against the live server. Adding a route means adding it here, and to
   * app/resources/openapi/openapi.json.
   */
  static final List<String> ROUTES =
      List.of(
          "GET /v1/me",
          "GET /v1/tenants",
          "POST /v1/tenants",
          "GET /v1/tenants/{id}",
          "PATCH /v1/tenants/{id}",
          "POST /v1/tenants/{id}/keys",
          "GET /v1/endpoints",
          "POST /v1/endpoints",
          "GET /v1/endpoints/{id}",
          "GET /v1/endpoints/{id}/health",
          "POST /v1/endpoints/{id}/test",
          "POST /v1/endpoints/{id}/verify",
          "PATCH /v1/endpoints/{id}",
          "DELETE /v1/endpoints/{id}",
          "POST /v1/endpoints/{id}/enable",
          "POST /v1/endpoints/{id}/rotate-secret",
          "POST /v1/endpoints/{id}/transformation/preview",
          "GET /v1/endpoints/{id}/secret",
          "POST /v1/endpoints/{id}/recover",
          "GET /v1/events",
          "POST /v1/events",
          "GET /v1/events/{id}",
          "GET /v1/events/{id}/audit",
          "GET /v1/events/{id}/attempts",
          "POST /v1/events/{id}/replay",
          "POST /v1/events/{id}/retry",
          "DELETE /v1/events/{id}/payload",
          "GET /v1/event-types",
          "POST /v1/event-types",
          "GET /v1/event-types/{name}",
          "PATCH /v1/event-types/{name}",
          "DELETE /v1/event-types/{name}",
          "GET /v1/event-types/{name}/audit",
          "GET /v1/event-type-settings",
          "PATCH /v1/event-type-settings",
          "GET /v1/stats",
          "POST /v1/portal-sessions",
          "GET /v1/api-keys",
          "POST /v1/api-keys",
          "DELETE /v1/api-keys/{id}",
          "GET /v1/alert-channels",
          "POST /v1/alert-channels",
          "GET /v1/alert-channels/{id}",
          "PATCH /v1/alert-channels/{id}",
          "DELETE /v1/alert-channels/{id}",
          "POST /v1/alert-channels/{id}/test",
          "GET /v1/cluster",
          "GET /metrics",
          "GET /health/live",
          "GET /health/ready",
          "GET /openapi.json",
          "GET /docs",
          "GET /docs/{file}",
          "GET /",
          "GET /console/{file}");

  /**
   * Paths the server must not have: near misses of real ones, and files of the WebJar that
   * are not served. {id} is a real id. A route added without the spec makes one of these
   * (or a path like them) fail.
   */
  static final List<String> NOT_ROUTES =
      List.of(
          "GET /v1",
          "GET /v1/me/",
          "GET /v1/stats/{endpoint}",
          "GET /v1/event-type",
          "GET /v1/event-types/a/b/c",
          "GET /v1/endpoints/{endpoint}/stats",
          "GET /v1/portal-sessions/x",
          "GET /v1/api-key",
          "POST /v1/api-keys/{endpoint}/rotate",
          "GET /v1/alert-channels/{endpoint}/sends",
          "POST /v1/alert-channel",
          "GET /v1/tenant",
          "GET /v1/tenants/{tenant}/keys/x",
          "GET /v1/endpoints/{endpoint}/secrets",
          "GET /v1/events/{event}/deliveries",
          "POST /v1/events/{event}/cancel",
          "GET /v2/events",
          "GET /health",
          "GET /metrics/",
          "GET /openapi.yaml",
          "GET /docs/",
          "GET /docs/index.html",
          "GET /docs/swagger-initializer.js",
          "GET /docs/swagger-ui.js",
          "GET /index.html",
          "GET /console",
          "GET /console/",
          "GET /console/nope.js",
          "GET /console/docs/init.js");

  private static TestNode node;
  private static ApiClient api;
  private static OpenApiSpec spec;
  private static Tenant tenant;
  private static String endpointId;
  private static String eventId;

  @BeforeAll
  static void start() {
    node = TestNode.start(TestPostgres.shared());
    api = node.api;
    spec = OpenApiSpec.fetch(api);
    tenant = api.createTenant("openapi-" + UUID.randomUUID());
    endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/hooks\"}");
    Response accepted = api.ingest(tenant.apiKey(), "k-" + UUID.randomUUID(), "{\"type\":\"t.x\",\"payload\":{}}");
    assertEquals(202, accepted.status(), accepted.body());
    eventId = accepted.json().get("event_id").asText();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  // ---- the document ----

  @Test
  void theSpecIsServedAsJsonWithoutAKey() {
    Response r = api.get("/openapi.json", null);
    assertEquals(200, r.status(), r.body());
    assertEquals("application/json", r.contentType());
  }

  @Test
  void theSpecIsValidOpenApi31() {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    SwaggerParseResult result = new OpenAPIV3Parser().readContents(spec.json, null, options);

    assertEquals(List.of(), result.getMessages());
    assertEquals(SpecVersion.V31, result.getOpenAPI().getSpecVersion());
    assertEquals("3.1.0", result.getOpenAPI().getOpenapi());
    assertEquals("Zyven", result.getOpenAPI().getInfo().getTitle());
    assertEquals("0.1.0", result.getOpenAPI().getInfo().getVersion());
    assertEquals("Apache-2.0", result.getOpenAPI().getInfo().getLicense().getName());
  }

  @Test
  void everyRefResolves() {
    List<String> dangling = new ArrayList<>();
    collectRefs(spec.doc).forEach(ref -> {
      try {
        spec.resolve(ApiClient.JSON.createObjectNode().put("$ref", ref));
      } catch (IllegalArgumentException e) {
        dangling.add(e.getMessage());
      }
    });
    assertEquals(List.of(), dangling);
  }

  @Test
  void idempotencyKeysAreSaidToBeHonouredAsLongAsTheEventIsKept() {
    JsonNode key = spec.operation("POST /v1/events").get("parameters").get(0);
    assertEquals("Idempotency-Key", key.get("name").asText());
    assertTrue(key.get("required").asBoolean());
    String description = key.get("description").asText();
    assertTrue(description.contains("honoured for as long as its event is kept"), key.toString());
    assertTrue(description.contains("the same key is a new event (202)"), key.toString());
  }

  // ---- the routes ----

  @Test
  void theSpecHasExactlyTheServersRoutes() {
    assertEquals(ROUTES.stream().sorted().toList(), spec.operations().stream().sorted().toList());
  }

  @Test
  void everyOperationInTheSpecIsRoutedAndAnswersADocumentedStatus() {
    List<String> operations = new ArrayList<>(spec.operations());
    // The endpoint is deleted last, so that the operations on it find it.
    operations.sort((a, b) -> Boolean.compare(a.startsWith("DELETE "), b.startsWith("DELETE ")));
    for (String operation : operations) {
      JsonNode op = spec.operation(operation);
      Response r = call(operation, op);

      assertRouted(operation, r);
      assertTrue(op.get("responses").has(Integer.toString(r.status())),
          operation + " answered " + r.status() + ", which its spec does not list: " + r.body());
    }
  }

  @Test
  void pathsThatAreNotInTheSpecAreNotRouted() {
    for (String probe : NOT_ROUTES) {
      String[] parts = probe.split(" ", 2);
      String path = parts[1]
          .replace("{tenant}", tenant.id())
          .replace("{endpoint}", endpointId)
          .replace("{event}", eventId);
      Response r = api.send(api.request(path, tenant.apiKey()).method(parts[0], HttpRequest.BodyPublishers.noBody()));
      assertEquals(404, r.status(), probe + ": " + r.body());
      assertEquals(Problems.NO_SUCH_PATH, assertProblem(r, 404, "not-found"), probe);
    }
  }

  @Test
  void methodsThatAreNotInTheSpecAre405() {
    spec.doc.get("paths").properties().forEach(path -> {
      for (String method : List.of("get", "post", "put", "patch", "delete")) {
        if (path.getValue().has(method)) continue;
        String url = concrete(path.getKey());
        Response r = api.send(api.request(url, tenant.apiKey())
            .method(method.toUpperCase(Locale.ROOT), HttpRequest.BodyPublishers.noBody()));
        assertEquals(405, r.status(), method + " " + url + ": " + r.body());
        assertProblem(r, 405, "method-not-allowed");
      }
    });
  }

  @Test
  void aMissingThingIsNotAMissingPath() {
    String detail = assertProblem(api.get("/v1/events/" + UUID.randomUUID(), tenant.apiKey()), 404, "not-found");
    assertFalse(detail.equals(Problems.NO_SUCH_PATH), detail);
  }

  // ---- the reference page ----

  @Test
  void docsIsAnHtmlPageThatLoadsOnlyWhatTheNodeServes() {
    Response page = api.get("/docs", null);
    assertEquals(200, page.status(), page.body());
    assertTrue(page.contentType().startsWith("text/html"), page.contentType());

    List<String> assets = new ArrayList<>();
    Matcher refs = Pattern.compile("(?:src|href)\\s*=\\s*\"([^\"]*)\"").matcher(page.body());
    while (refs.find()) assets.add(refs.group(1));
    assertTrue(assets.containsAll(List.of("/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js")),
        assets.toString());
    assertFalse(page.body().matches("(?s).*(https?:)?//.*"), "no URL of another host: " + page.body());
    // Inline scripts would need 'unsafe-inline' in a Content-Security-Policy.
    assertFalse(Pattern.compile("<script(?![^>]*\\bsrc=)[^>]*>").matcher(page.body()).find(), "no inline script");
    for (String asset : assets) {
      assertTrue(asset.startsWith("/") && !asset.startsWith("//"), "served by the node: " + asset);
      Response r = api.get(asset, null);
      assertEquals(200, r.status(), asset);
      assertTrue(r.contentType().startsWith(asset.endsWith(".css") ? "text/css" : "application/javascript"),
          asset + ": " + r.contentType());
    }
  }

  @Test
  void swaggerUiStartsOnThisNodesSpec() {
    String init = api.get("/docs/init.js", null).body();
    assertTrue(init.contains("url: \"/openapi.json\""), init);
    assertTrue(init.contains("validatorUrl: null"), "no badge fetched from validator.swagger.io: " + init);
    assertFalse(init.contains("http"), init);
  }

  // ---- helpers ----

  /** Calls an operation of the spec with real ids, its body's example and its headers' examples. */
  private static Response call(String operation, JsonNode op) {
    String[] parts = operation.split(" ", 2);
    String path = concrete(parts[1]);
    boolean open = op.has("security") && op.get("security").isEmpty();
    boolean admin = path.startsWith("/v1/tenants") || path.startsWith("/v1/cluster");
    HttpRequest.Builder request = api.request(path, open ? null : admin ? TestNode.ADMIN_KEY : tenant.apiKey());
    for (JsonNode p : op.path("parameters")) {
      if (p.get("in").asText().equals("header")) request.header(p.get("name").asText(), p.get("example").asText());
    }
    JsonNode example = op.path("requestBody").path("content").path("application/json").get("example");
    if (example == null) return api.send(request.method(parts[0], HttpRequest.BodyPublishers.noBody()));
    return api.send(request.header("Content-Type", "application/json")
        .method(parts[0], HttpRequest.BodyPublishers.ofString(example.toString())));
  }

  private static String concrete(String template) {
    String id = template.startsWith("/v1/tenants/") ? tenant.id()
        : template.startsWith("/v1/endpoints/") ? endpointId
        : eventId;
    String file = template.startsWith("/console/") ? "console.js" : "init.js";
    return template.replace("{id}", id).replace("{file}", file).replace("{name}", "order.created");
  }

  /** Neither "no route for this path" nor "no route for this method". */
  private static void assertRouted(String operation, Response r) {
    assertFalse(r.status() == 405, operation + ": " + r.body());
    if (r.status() == 404) {
      assertFalse(r.json().path("detail").asText().equals(Problems.NO_SUCH_PATH), operation + ": " + r.body());
    }
  }

  private static List<String> collectRefs(JsonNode node) {
    List<String> refs = new ArrayList<>();
    if (node.has("$ref")) refs.add(node.get("$ref").asText());
    node.forEach(child -> refs.addAll(collectRefs(child)));
    return refs;
  }
}
