package io.zyven.app.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * A database whose keys were made before keys had scopes (migrated up to V6, the version
 * before them): once a node has migrated it, those keys still work, with every scope.
 */
class ApiKeyMigrationTest {

  @Test
  void keysMadeBeforeScopesKeepEveryScope() throws Exception {
    try (TestPostgres pg = TestPostgres.startPrivate()) {
      Flyway.configure().dataSource(pg.jdbcUrl(), "postgres", "").locations("classpath:db/migration")
          .target("6").load().migrate();
      String tenantId = UUID.randomUUID().toString();
      String key = "zyv_made-before-scopes-" + UUID.randomUUID();
      try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
          PreparedStatement tenant = c.prepareStatement("INSERT INTO tenants (id, name, created_at) VALUES (?, 'old', ?)");
          PreparedStatement apiKey = c.prepareStatement(
              "INSERT INTO api_keys (id, tenant_id, key_hash, created_at) VALUES (?, ?, ?, ?)")) {
        tenant.setObject(1, UUID.fromString(tenantId));
        tenant.setTimestamp(2, Timestamp.from(Instant.now()));
        tenant.executeUpdate();
        apiKey.setObject(1, UUID.randomUUID());
        apiKey.setObject(2, UUID.fromString(tenantId));
        apiKey.setString(3, TenantStore.hash(key));
        apiKey.setTimestamp(4, Timestamp.from(Instant.now()));
        apiKey.executeUpdate();
      }

      try (TestNode node = TestNode.start(pg)) {
        Response me = node.api.get("/v1/me", key);
        assertEquals(200, me.status(), me.body());
        assertEquals(tenantId, me.json().get("tenant_id").asText());
        assertEquals(List.of("ingest", "read", "manage"), strings(me.json().get("scopes")));

        JsonNode keys = node.api.get("/v1/api-keys", key).json().get("data");
        assertEquals(1, keys.size(), keys.toString());
        assertEquals(List.of("ingest", "read", "manage"), strings(keys.get(0).get("scopes")));
        assertTrue(keys.get(0).get("name").isNull(), "it had no name: " + keys);
      }
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
