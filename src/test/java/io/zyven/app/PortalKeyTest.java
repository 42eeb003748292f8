package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.NodeProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The key that signs portal tokens, on a node started as an operator starts it: generated
 * on the first start and stored, so a token issued before a restart works after it; or
 * given by ZYVEN_PORTAL_SIGNING_KEY, which then replaces the stored one.
 */
class PortalKeyTest {
  private static final Duration START = Duration.ofSeconds(90);

  private Path dataDir;
  private NodeProcess node;

  @BeforeEach
  void dataDir() throws IOException {
    dataDir = Files.createTempDirectory("zyven-portal-key");
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) node.close();
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void aTokenIssuedBeforeARestartWorksAfterIt() throws Exception {
    node = start(Map.of("ZYVEN_PUBLIC_URL", "https://hooks.example.com/"));
    Tenant tenant = node.api.createTenant("restart");
    String endpoint = node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/hooks\"}");
    Response session = node.api.postJson("/v1/portal-sessions", tenant.apiKey(), "{\"scope\":\"read\"}");
    assertEquals(201, session.status(), session.body());
    String token = session.json().get("token").asText();
    assertEquals("https://hooks.example.com/#portal_token=" + token, session.json().get("url").asText(),
        "the configured public URL");
    assertEquals(200, endpoints(token).status());

    assertEquals(0, node.terminate());
    node = start(Map.of());

    Response after = endpoints(token);
    assertEquals(200, after.status(), after.body());
    assertEquals(endpoint, after.json().get("data").get(0).get("id").asText());

    // A configured key replaces the stored one: tokens of the old key stop working.
    assertEquals(0, node.terminate());
    byte[] configured = new byte[32];
    new java.security.SecureRandom().nextBytes(configured);
    node = start(Map.of("ZYVEN_PORTAL_SIGNING_KEY", Base64.getEncoder().encodeToString(configured)));
    assertEquals(401, endpoints(token).status());
    String fresh = node.api.postJson("/v1/portal-sessions", tenant.apiKey(), "{\"scope\":\"read\"}").json().get("token").asText();
    assertEquals(200, endpoints(fresh).status());
    assertTrue(node.api.postJson("/v1/portal-sessions", tenant.apiKey(), "{\"scope\":\"read\"}").json()
        .get("url").asText().startsWith(node.url() + "/#portal_token="), "without a public URL: the Host header");
  }

  private NodeProcess start(Map<String, String> env) throws Exception {
    Path log = NodeProcess.logFile("portal-key");
    NodeProcess n = NodeProcess.start(dataDir, log, env);
    n.awaitReady(START);
    return n;
  }

  private Response endpoints(String token) {
    return new ApiClient(node.url(), NodeProcess.ADMIN_KEY).get("/v1/endpoints", token);
  }
}
