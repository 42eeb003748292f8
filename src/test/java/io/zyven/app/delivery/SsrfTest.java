package io.zyven.app.delivery;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.endpoint.TargetGuard;
import io.zyven.app.endpoint.WebhookClient;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import io.zyven.protocol.EndpointConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SSRF guard with its production default (private targets refused): at registration
 * (422, nothing written) and again when connecting.
 */
class SsrfTest {
  private static final String DEV_SWITCHES =
      ". Webhooks go only to public addresses; for a receiver on your own machine in development, "
          + "run the node in dev mode (ZYVEN_DEV=true) or set zyven.delivery.allow-private-targets=true";

  private static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start(TestPostgres.shared(), Map.of("zyven.delivery.allow-private-targets", false));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void privateLoopbackLinkLocalAndMetadataTargetsAreRefusedAtRegistration() {
    ApiClient api = node.api;
    Tenant tenant = api.createTenant("ssrf");
    for (String url : List.of(
        "http://127.0.0.1/hook", "http://localhost:8080/hook", "http://[::1]/hook", "http://10.0.0.5/hook",
        "http://172.16.3.4/hook", "http://192.168.1.10/hook", "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook", "http://0.0.0.0/hook", "http://[fd00:ec2::254]/hook",
        "http://[::ffff:127.0.0.1]/hook")) {
      ApiClient.Response r = api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"" + url + "\"}");
      String detail = assertProblem(r, 422, "target-not-allowed");
      assertTrue(detail.contains("which is not a public address"), detail);
      assertTrue(detail.endsWith(DEV_SWITCHES), detail);
    }
    assertEquals(0, api.get("/v1/endpoints", tenant.apiKey()).json().get("data").size(), "nothing written");
  }

  /** The refusal names the address, and the switches a developer with a local receiver needs. */
  @Test
  void theRefusalNamesTheAddressAndTheDevelopmentSwitches() {
    Tenant tenant = node.api.createTenant("ssrf-words");
    ApiClient.Response r = node.api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"http://127.0.0.1:3000/hook\"}");
    assertEquals("127.0.0.1 resolves to 127.0.0.1, which is not a public address" + DEV_SWITCHES,
        assertProblem(r, 422, "target-not-allowed"));
  }

  @Test
  void aHostThatDoesNotResolveIsRefusedWithoutTheDevelopmentSwitches() {
    Tenant tenant = node.api.createTenant("ssrf-dns");
    ApiClient.Response r = node.api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"https://no-such-host.invalid/hook\"}");
    assertEquals("cannot resolve host no-such-host.invalid", assertProblem(r, 422, "target-not-allowed"));
  }

  @Test
  void aPublicAddressIsAccepted() {
    Tenant tenant = node.api.createTenant("ssrf-public");
    ApiClient.Response r = node.api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"https://93.184.216.34/hook\"}");
    assertEquals(201, r.status(), r.body());
  }

  @Test
  void patchingToAPrivateTargetIsRefused() {
    Tenant tenant = node.api.createTenant("ssrf-patch");
    String id = node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"https://93.184.216.34/hook\"}");
    String detail =
        assertProblem(node.api.patchJson("/v1/endpoints/" + id, tenant.apiKey(), "{\"url\":\"http://127.0.0.1/x\"}"), 422, "target-not-allowed");
    assertTrue(detail.endsWith(DEV_SWITCHES), detail);
    assertEquals("https://93.184.216.34/hook",
        node.api.get("/v1/endpoints/" + id, tenant.apiKey()).json().get("url").asText());
  }

  @Test
  void theGuardIsCheckedAgainWhenConnecting() throws Exception {
    // As if DNS now pointed a registered host at loopback: the client refuses to connect.
    ActorTestKit kit = ActorTestKit.create();
    try (Receiver receiver = new Receiver()) {
      WebhookClient client = new WebhookClient(kit.system(), io.zyven.app.store.SecretBox.of(new byte[32], List.of()), new TargetGuard(false, Runnable::run), Duration.ofSeconds(2));
      EndpointConfig endpoint = new EndpointConfig("e", "t", receiver.url("/inner"), null, List.of(),
          "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", null, null, true, 1, null, 2000, 3, Map.of(),
          Instant.now(), Instant.now(), 1);

      WebhookClient.Result result = client
          .send(client.newPool(), endpoint, new io.zyven.app.delivery.DeliveryRequest("id", "a.b", "{}", 1))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);

      assertNull(result.attempt().statusCode());
      assertTrue(result.attempt().error().startsWith("refused"), result.attempt().error());
      assertEquals(0, receiver.requests("/inner").size(), "no request reached the private address");
    } finally {
      kit.shutdownTestKit();
    }
  }
}
