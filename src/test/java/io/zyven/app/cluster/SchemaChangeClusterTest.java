package io.zyven.app.cluster;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A catalogue change made through one node of a three-node cluster is enforced by the very
 * next request to every node, though each node caches compiled schemas: each reads the
 * type's version with its fan-out lookup.
 */
class SchemaChangeClusterTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static final List<TestNode> nodes = new ArrayList<>();
  private static Receiver receiver;
  private static Tenant tenant;

  @BeforeAll
  static void threeNodes() throws Exception {
    receiver = new Receiver();
    TestNode first = TestNode.start(TestPostgres.shared());
    nodes.add(first);
    String seed = Cluster.get(first.zyven().system()).selfMember().address().toString();
    nodes.add(TestNode.start(TestPostgres.shared(), Map.of("pekko.cluster.seed-nodes", List.of(seed))));
    nodes.add(TestNode.start(TestPostgres.shared(), Map.of("pekko.cluster.seed-nodes", List.of(seed))));
    Await.until("3 members up", PATIENCE, () -> {
      JsonNode members = first.api.send(first.api.request("/v1/cluster", TestNode.ADMIN_KEY).GET()).json().get("members");
      int up = 0;
      for (JsonNode m : members) if (m.get("status").asText().equals("Up")) up++;
      return up == 3;
    });
    tenant = first.api.createTenant("schema-cluster-" + UUID.randomUUID());
    first.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");
  }

  @AfterAll
  static void stopAll() throws Exception {
    for (int i = nodes.size() - 1; i >= 0; i--) nodes.get(i).close();
    receiver.close();
  }

  private static ApiClient node(int i) {
    return nodes.get(i).api;
  }

  private static Response send(int node, String payload) {
    return node(node).ingest(tenant.apiKey(), UUID.randomUUID().toString(),
        "{\"type\":\"order.created\",\"payload\":" + payload + "}");
  }

  @Test
  void aSchemaChangeIsEnforcedOnTheNextRequestToEveryNode() {
    Response created = node(0).postJson("/v1/event-types", tenant.apiKey(),
        "{\"name\":\"order.created\",\"schema\":{\"type\":\"object\",\"required\":[\"id\"]}}");
    assertEquals(201, created.status(), created.body());
    // Every node compiles and caches version 1.
    for (int i = 0; i < 3; i++) {
      assertEquals(202, send(i, "{\"id\":1}").status());
      assertProblem(send(i, "{}"), 422, "schema-violation");
    }

    // Tightened through node 0: the next request to each node is held to it.
    assertEquals(200, node(0).patchJson("/v1/event-types/order.created", tenant.apiKey(),
        "{\"schema\":{\"type\":\"object\",\"required\":[\"id\",\"total\"]}}").status());
    for (int i = 0; i < 3; i++) {
      Response r = send(i, "{\"id\":1}");
      assertProblem(r, 422, "schema-violation");
      assertEquals("/total", r.json().get("errors").get(0).get("pointer").asText());
    }

    // Loosened through node 2: every node accepts at once.
    assertEquals(200, node(2).patchJson("/v1/event-types/order.created", tenant.apiKey(), "{\"schema\":null}").status());
    for (int i = 0; i < 3; i++) assertEquals(202, send(i, "{}").status());

    // Archived through node 1: refused everywhere.
    assertEquals(200, node(1).patchJson("/v1/event-types/order.created", tenant.apiKey(), "{\"archived\":true}").status());
    for (int i = 0; i < 3; i++) assertProblem(send(i, "{\"id\":1}"), 422, "event-type-archived");

    // Deleted and made again with another schema: a new version, never the cached one.
    assertEquals(204, node(0).delete("/v1/event-types/order.created", tenant.apiKey()).status());
    assertEquals(201, node(0).postJson("/v1/event-types", tenant.apiKey(),
        "{\"name\":\"order.created\",\"schema\":{\"type\":\"object\",\"required\":[\"ref\"]}}").status());
    for (int i = 0; i < 3; i++) {
      assertProblem(send(i, "{\"id\":1}"), 422, "schema-violation");
      assertEquals(202, send(i, "{\"ref\":\"r\"}").status());
    }

    // The tenant's setting too.
    assertEquals(200, node(1).patchJson("/v1/event-type-settings", tenant.apiKey(), "{\"require_registered_types\":true}").status());
    for (int i = 0; i < 3; i++) {
      assertProblem(node(i).ingest(tenant.apiKey(), UUID.randomUUID().toString(), "{\"type\":\"other\",\"payload\":{}}"),
          422, "event-type-unregistered");
    }
  }
}
