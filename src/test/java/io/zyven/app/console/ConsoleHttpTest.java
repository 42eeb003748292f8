package io.zyven.app.console;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the node serves for the console, seen over HTTP: the page, its policy, its files. */
class ConsoleHttpTest {
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    node = TestNode.start(TestPostgres.shared(), Map.of("zyven.console.frame-ancestors", "'self' https://app.example.com"));
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void thePageHasAStrictContentSecurityPolicy() {
    Response page = api.get("/", null);

    assertEquals(200, page.status());
    assertTrue(page.contentType().startsWith("text/html"), page.contentType());
    assertTrue(page.body().contains("name=\"api_key\""), "the sign-in input");
    String csp = page.header("Content-Security-Policy").orElseThrow();
    assertTrue(csp.contains("script-src 'self'"), csp);
    assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval"), csp);
    assertTrue(csp.contains("frame-ancestors 'self' https://app.example.com"), "frame-ancestors from config: " + csp);
    assertEquals("nosniff", page.header("X-Content-Type-Options").orElseThrow());
    assertEquals("no-referrer", page.header("Referrer-Policy").orElseThrow());
  }

  @Test
  void everyFileThePageLoadsIsServedFromTheNodeAndNothingFromElsewhere() {
    String page = api.get("/", null).body();
    assertFalse(page.matches("(?s).*(src|href)=\"(https?:)?//.*"), "no file from another host");
    assertFalse(page.contains("<script>"), "no inline script");
    Matcher assets = Pattern.compile("(?:src|href)=\"(/console/[^\"]+)\"").matcher(page);
    int found = 0;
    while (assets.find()) {
      found++;
      Response r = api.get(assets.group(1), null);
      assertEquals(200, r.status(), assets.group(1));
      assertTrue(r.header("Content-Security-Policy").isPresent(), "the policy is on every file");
    }
    assertEquals(2, found, "the script and the style sheet");
  }

  @Test
  void meSaysWhoAKeyIs() {
    Tenant tenant = api.createTenant("me-" + UUID.randomUUID());

    Response asTenant = api.get("/v1/me", tenant.apiKey());
    assertEquals(200, asTenant.status(), asTenant.body());
    assertEquals("tenant", asTenant.json().get("kind").asText());
    assertEquals(tenant.id(), asTenant.json().get("tenant_id").asText());

    Response asAdmin = api.get("/v1/me", TestNode.ADMIN_KEY);
    assertEquals("admin", asAdmin.json().get("kind").asText());

    assertProblem(api.get("/v1/me", "zyv_nobody"), 401);
    assertProblem(api.get("/v1/me", null), 401);
  }

  @Test
  void anUnknownConsoleFileIsA404Problem() {
    assertProblem(api.get("/console/nope.js", null), 404);
  }
}
