package io.zyven.app.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.zyven.app.Zyven;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** A whole Zyven node (actor system, sharding, HTTP) in the test JVM, on a test PostgreSQL. */
public final class TestNode implements AutoCloseable {
  public static final String ADMIN_KEY = "test-admin-key";

  private final Zyven zyven;
  public final ApiClient api;

  private TestNode(Zyven zyven) {
    this.zyven = zyven;
    this.api = new ApiClient("http://127.0.0.1:" + zyven.httpPort(), ADMIN_KEY);
  }

  public static TestNode start(TestPostgres pg) {
    return start(pg, Map.of());
  }

  /** Starts a single-node cluster; {@code overrides} are config paths and values. */
  public static TestNode start(TestPostgres pg, Map<String, Object> overrides) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("zyven.http.host", "127.0.0.1");
    settings.put("zyven.http.port", 0);
    settings.put("pekko.remote.artery.canonical.port", 0);
    settings.put("zyven.db.url", pg.jdbcUrl());
    settings.put("zyven.db.user", "postgres");
    settings.put("zyven.db.password", "");
    settings.put("zyven.admin-key", ADMIN_KEY);
    settings.put("zyven.delivery.allow-private-targets", true);
    settings.put("pekko.loglevel", "WARNING");
    // Several nodes share this JVM in cluster tests.
    settings.put("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    settings.putAll(overrides);
    Config config = ConfigFactory.parseMap(settings).withFallback(ConfigFactory.load());
    try {
      TestNode node = new TestNode(Zyven.start(config));
      node.awaitReady(Duration.ofSeconds(30));
      return node;
    } catch (Exception e) {
      throw new IllegalStateException("node did not start", e);
    }
  }

  private void awaitReady(Duration timeout) throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    int status = 0;
    while (Instant.now().isBefore(deadline)) {
      status = api.get("/health/ready", null).status();
      if (status == 200) return;
      Thread.sleep(100); // polling an HTTP endpoint: there is nothing to subscribe to
    }
    assertEquals(200, status, "node never became ready");
  }

  public Zyven zyven() {
    return zyven;
  }

  @Override
  public void close() throws Exception {
    zyven.close();
  }
}
