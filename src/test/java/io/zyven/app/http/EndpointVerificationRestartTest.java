package io.zyven.app.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A verification's outcome is journaled by the endpoint's entity, so it survives the node;
 * a challenge that was out when the node stopped is sent again when the endpoint next
 * starts, so the endpoint is not left pending with nothing under way.
 */
class EndpointVerificationRestartTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @Test
  void outcomesSurviveARestartAndAChallengeCutShortIsSentAgain() throws Exception {
    TestPostgres pg = TestPostgres.shared();
    try (Receiver receiver = new Receiver()) {
      String verifiedPath = "/" + UUID.randomUUID();
      String cutShortPath = "/" + UUID.randomUUID();
      receiver.respond(verifiedPath, (n, r) -> Answer.status(200).withBody(challenge(r)));
      // The first challenge is held past the node's life; the next is echoed at once.
      receiver.respond(cutShortPath,
          (n, r) -> n == 1 ? Answer.status(200).withBody("too late").after(20_000) : Answer.status(200).withBody(challenge(r)));

      Tenant tenant;
      String verified;
      String cutShort;
      // A long verification timeout: the held challenge must still be out when the node stops.
      try (TestNode first = TestNode.start(pg, Map.of("zyven.verification.timeout", "60s"))) {
        ApiClient api = first.api;
        tenant = api.createTenant("verify-restart-" + UUID.randomUUID());
        verified = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url(verifiedPath) + "\",\"verify\":true}");
        cutShort = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url(cutShortPath) + "\",\"verify\":true}");
        Await.until("verified", PATIENCE, () -> state(api, tenant, verified).equals("verified"));
        Await.until("the second challenge out", PATIENCE, () -> receiver.arrivals(cutShortPath).size() == 1);
        assertEquals("pending", state(api, tenant, cutShort));
      }

      try (TestNode second = TestNode.start(pg)) {
        ApiClient api = second.api;
        // Read from the journal by a fresh entity.
        assertEquals("verified", state(api, tenant, verified));
        assertEquals("active", api.get("/v1/endpoints/" + verified, tenant.apiKey()).json().get("status").asText());
        // That read started the cut-short endpoint's entity too: its challenge goes again, and passes.
        Await.until("the cut-short endpoint verified", PATIENCE, () -> state(api, tenant, cutShort).equals("verified"));
        assertEquals(2, receiver.arrivals(cutShortPath).size());
        assertNotEquals(challenge(receiver.arrivals(cutShortPath).get(0)), challenge(receiver.arrivals(cutShortPath).get(1)),
            "a new challenge, not the old one again");

        // And it receives events now, once the endpoint index that ingest reads has caught up
        // with the entity (the entity writes it after journaling the outcome).
        Await.until("active in the index", PATIENCE, () -> listedStatus(api, tenant, cutShort).equals("active"));
        assertEquals(202, api.ingest(tenant.apiKey(), "after-restart",
            "{\"type\":\"user.created\",\"payload\":{\"id\":1},\"endpoint_id\":\"" + cutShort + "\"}").status());
        Await.until("the event at the receiver", PATIENCE,
            () -> receiver.requests(cutShortPath).stream().anyMatch(r -> r.bodyText().equals("{\"id\":1}")));
      }
    }
  }

  /** The endpoint's status in the list, which is read from the endpoint index. */
  private static String listedStatus(ApiClient api, Tenant tenant, String id) {
    for (JsonNode e : api.get("/v1/endpoints", tenant.apiKey()).json().get("data")) {
      if (e.get("id").asText().equals(id)) return e.get("status").asText();
    }
    return "not listed";
  }

  private static String state(ApiClient api, Tenant tenant, String id) {
    return api.get("/v1/endpoints/" + id, tenant.apiKey()).json().path("verification").path("state").asText();
  }

  private static String challenge(Receiver.Request r) {
    try {
      JsonNode body = ApiClient.JSON.readTree(r.bodyText());
      return body.path("challenge").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
