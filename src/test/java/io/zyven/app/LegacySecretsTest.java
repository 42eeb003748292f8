package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.endpoint.EndpointEntity;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import io.zyven.app.testing.WebhookVerifier;
import io.zyven.protocol.EndpointConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An endpoint from before sealing: its secret in plain text in endpoints.config and in its
 * journal. Migration V8 strips it from the index; the start-up sweep makes the endpoint
 * journal it sealed; it keeps signing with the same secret.
 */
class LegacySecretsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private TestPostgres pg;
  private TestNode node;
  private Receiver receiver;

  @BeforeEach
  void setUp() throws Exception {
    pg = TestPostgres.startPrivate();
    receiver = new Receiver();
    receiver.on("/legacy", n -> Answer.status(200));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (node != null) node.close();
    receiver.close();
    pg.close();
  }

  @Test
  void aPlainSecretIsStrippedFromTheIndexResealedAndStillSigns() throws Exception {
    String secret = "whsec_" + Base64.getEncoder().encodeToString(UUID.randomUUID().toString().getBytes());
    String endpoint = UUID.randomUUID().toString();
    String tenantId = UUID.randomUUID().toString();
    // The schema as it was before sealing (V6), with the index row an earlier version wrote.
    Flyway.configure().dataSource(pg.jdbcUrl(), "postgres", "").locations("classpath:db/migration").target("6")
        .load().migrate();
    assertEquals(1, update("INSERT INTO endpoints (id, tenant_id, event_types, enabled, deleted, version, config, created_at)"
        + " VALUES ('" + endpoint + "', '" + tenantId + "', '{}', true, false, 1, '{\"id\":\"" + endpoint
        + "\",\"secret\":\"" + secret + "\",\"url\":\"" + receiver.url("/legacy") + "\"}', now())"));

    node = TestNode.start(pg);
    assertEquals(0, pg.count("SELECT count(*) FROM endpoints WHERE config->'secret' IS NOT NULL"), "V8 strips the secret");
    assertEquals(1, pg.count("SELECT count(*) FROM endpoints WHERE id = ?::uuid AND config->>'url' IS NOT NULL",
        endpoint), "and nothing else");

    // The endpoint's journal as an earlier version wrote it: the secret in plain text.
    Tenant tenant = node.api.createTenant("legacy");
    Instant now = Instant.now();
    EndpointConfig plain = new EndpointConfig(endpoint, tenant.id(), receiver.url("/legacy"), null, List.of(), secret,
        null, null, true, 10, null, 5000, 3, Map.of(), now, now, 1);
    Object reply = ClusterSharding.get(node.zyven().system())
        .entityRefFor(EndpointEntity.TYPE_KEY, endpoint)
        .<EndpointEntity.Reply>ask(replyTo -> new EndpointEntity.Create(plain, replyTo), PATIENCE)
        .toCompletableFuture().get();
    assertInstanceOf(EndpointEntity.Current.class, reply);
    assertEquals(1, update("UPDATE endpoints SET tenant_id = '" + tenant.id() + "' WHERE id = '" + endpoint + "'"));
    assertEquals(1, journalRowsWith(endpoint, secret), "the legacy journal row");

    // A restart: the sweep finds the endpoint not sealed under the current key.
    node.close();
    node = TestNode.start(pg);
    Await.until("resealed", PATIENCE, () -> pg.count(
        "SELECT count(*) FROM endpoints WHERE id = ?::uuid AND secret_key_id IS NOT NULL", endpoint) == 1);
    assertEquals(1, journalRowsWith(endpoint, "v1:"), "SecretsResealed, sealed");
    assertEquals(1, journalRowsWith(endpoint, secret), "the old row is not rewritten (as the README says)");

    Response secretNow = node.api.get("/v1/endpoints/" + endpoint + "/secret", tenant.apiKey());
    assertEquals(200, secretNow.status(), secretNow.body());
    assertEquals(secret, secretNow.json().get("secret").asText());
    Response accepted = node.api.ingest(tenant.apiKey(), "k-1", "{\"type\":\"a.b\",\"payload\":{}}");
    assertEquals(202, accepted.status(), accepted.body());
    Await.until("delivered", PATIENCE, () -> !receiver.requests("/legacy").isEmpty());
    Receiver.Request r = receiver.requests("/legacy").get(0);
    assertNotNull(r.header("webhook-signature"));
    assertTrue(WebhookVerifier.verify(secret, r.header("webhook-id"), r.header("webhook-timestamp"), r.body(),
        r.header("webhook-signature"), Instant.now().getEpochSecond()), "still signed with the same secret");
  }

  private long journalRowsWith(String endpoint, String text) {
    return pg.count("SELECT count(*) FROM event_journal WHERE persistence_id = ?"
        + " AND position(convert_to(?, 'UTF8') in event_payload) > 0", "Endpoint|" + endpoint, text);
  }

  private int update(String sql) throws Exception {
    try (var c = java.sql.DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
        var st = c.createStatement()) {
      return st.executeUpdate(sql);
    }
  }
}
