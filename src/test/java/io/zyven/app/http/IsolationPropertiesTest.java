package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.endpoint.EndpointEntity;
import io.zyven.app.event.EventEntity;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion.CurrentShardRegionState;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Issue 12, item 7: two tenants, random ids (the caller's own, the other tenant's, random
 * ones) on random routes, and never a crossing. A request for an id that is not the
 * caller's answers 404 and has no side effect, observed from outside: the other tenant's
 * journal rows, read-model events and endpoints do not change, its receiver hears nothing,
 * and its events' entities are not started. That last one is seen in the shard region's
 * state: the other tenant's events wait an hour for a retry (or are dead-lettered), their
 * entities have passivated, and a started one would stay live (a waiting event does not
 * passivate on a read) for the idle timeout, two seconds here.
 */
class IsolationPropertiesTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  private static Side a;
  private static Side b;

  /**
   * A tenant, its endpoint, events it reads itself, and sentinel events that only the
   * other tenant ever asks for (so that their entities stay stopped unless a crossing starts them).
   */
  record Side(
      Tenant tenant, String endpointId, List<String> ownEvents, List<String> sentinels, String sentinelPath,
      String sentinelEndpoint) {}

  @BeforeContainer
  static void start() throws Exception {
    pg = TestPostgres.shared();
    node = TestNode.start(pg, Map.of(
        // A failed attempt waits an hour: RETRY_SCHEDULED stays put for the whole test.
        "zyven.delivery.retry-schedule", List.of("1h"),
        // An idle entity stops soon, so that the sentinels are stopped when the property starts.
        "pekko.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout", "2s"));
    api = node.api;
    receiver = new Receiver();
    a = side("a");
    b = side("b");
    for (Side s : List.of(a, b)) {
      for (String sentinel : s.sentinels()) {
        Await.until("sentinel " + sentinel + " stopped", PATIENCE, () -> !live(sentinel));
      }
      Await.until("sentinel endpoint stopped", PATIENCE, () -> !live(EndpointEntity.TYPE_KEY, s.sentinelEndpoint()));
    }
    // The observation works: a read of a waiting event by its owner starts its entity.
    api.get("/v1/events/" + a.ownEvents().get(0), a.tenant().apiKey());
    assertTrue(live(a.ownEvents().get(0)), "a waiting event's entity is live after its owner reads it");
  }

  @AfterContainer
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  private static Side side(String name) {
    Tenant tenant = api.createTenant("isolation-" + name + "-" + UUID.randomUUID());
    String path = "/isolation-" + name + "-" + UUID.randomUUID();
    // 503 on "wait" types: the event waits an hour for its retry; 400 on "dead" ones: dead-lettered.
    receiver.on(path, n -> Answer.status(503));
    String endpointId = api.createEndpoint(tenant.apiKey(),
        "{\"url\":\"" + receiver.url(path) + "\",\"event_types\":[\"wait.*\"]}");
    String deadPath = path + "-dead";
    receiver.on(deadPath, n -> Answer.status(400));
    // Only the other tenant ever names this one: its entity stays stopped unless a crossing starts it.
    String deadEndpoint =
        api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url(deadPath) + "\",\"event_types\":[\"dead.*\"]}");
    List<String> own = List.of(ingest(tenant, "wait.own"), ingest(tenant, "dead.own"));
    List<String> sentinels = List.of(ingest(tenant, "wait.sentinel"), ingest(tenant, "dead.sentinel"));
    for (String id : own) awaitSettled(tenant, id);
    for (String id : sentinels) awaitSettled(tenant, id);
    return new Side(tenant, endpointId, own, sentinels, path, deadEndpoint);
  }

  private static String ingest(Tenant tenant, String type) {
    Response r = api.ingest(tenant.apiKey(), UUID.randomUUID().toString(), "{\"type\":\"" + type + "\",\"payload\":{}}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  /** Waits, through the read model (which starts no entity), for the first attempt's outcome. */
  private static void awaitSettled(Tenant tenant, String id) {
    Await.until("event " + id + " settled", PATIENCE, () -> {
      String status = pg.queryString("SELECT status FROM events WHERE event_id = ?", UUID.fromString(id));
      return "RETRY_SCHEDULED".equals(status) || "DEAD_LETTERED".equals(status);
    });
  }

  enum Whose { OWN, OTHERS, RANDOM }

  enum Route {
    GET_EVENT, AUDIT, REPLAY, REPLAY_ENDPOINT, RETRY, RETRY_ENDPOINT,
    GET_ENDPOINT, ENDPOINT_HEALTH, PATCH_ENDPOINT, DELETE_ENDPOINT, ENABLE, ROTATE_SECRET, RECOVER;

    boolean event() {
      return ordinal() <= RETRY_ENDPOINT.ordinal();
    }

    /** What a caller may send for its own ids without changing the fixture. */
    boolean readOnly() {
      return this == GET_EVENT || this == AUDIT || this == GET_ENDPOINT || this == ENDPOINT_HEALTH;
    }
  }

  @Property(tries = 150)
  void noRequestCrossesBetweenTenants(
      @ForAll boolean callerIsA, @ForAll Whose whose, @ForAll Route route, @ForAll("index") int index) {
    Side caller = callerIsA ? a : b;
    Side other = callerIsA ? b : a;
    if (whose == Whose.OWN && !route.readOnly()) route = route.event() ? Route.AUDIT : Route.GET_ENDPOINT;
    String id = switch (whose) {
      case OWN -> route.event() ? caller.ownEvents().get(index) : caller.endpointId();
      case OTHERS -> route.event() ? other.sentinels().get(index) : other.sentinelEndpoint();
      case RANDOM -> UUID.randomUUID().toString();
    };

    Writes before = Writes.of(other.tenant().id());
    int heardBefore = receiver.requests(other.sentinelPath()).size();
    Response r = send(caller, route, id, index == 0 ? caller.endpointId() : other.endpointId());
    Statistics.collect(whose, r.status());

    if (whose == Whose.OWN) {
      assertEquals(200, r.status(), route + " " + r);
      assertTrue(r.body().contains("\"" + id + "\""), "about the id asked for: " + r.body());
    } else {
      assertProblem(r, 404, "not-found");
      assertEquals(before, Writes.of(other.tenant().id()), "nothing of the other tenant's written by " + route);
      assertEquals(heardBefore, receiver.requests(other.sentinelPath()).size(), "its receiver heard nothing");
      for (String sentinel : other.sentinels()) {
        assertFalse(live(sentinel), route + " started the other tenant's event " + sentinel);
      }
      assertFalse(live(EndpointEntity.TYPE_KEY, other.sentinelEndpoint()),
          route + " started the other tenant's endpoint " + other.sentinelEndpoint());
    }
  }

  @Provide
  Arbitrary<Integer> index() {
    return Arbitraries.integers().between(0, 1);
  }

  private static Response send(Side caller, Route route, String id, String bodyEndpoint) {
    String key = caller.tenant().apiKey();
    String named = "{\"endpoint_id\":\"" + bodyEndpoint + "\"}";
    return switch (route) {
      case GET_EVENT -> api.get("/v1/events/" + id, key);
      case AUDIT -> api.get("/v1/events/" + id + "/audit", key);
      case REPLAY -> api.postJson("/v1/events/" + id + "/replay", key, "");
      case REPLAY_ENDPOINT -> api.postJson("/v1/events/" + id + "/replay", key, named);
      case RETRY -> api.postJson("/v1/events/" + id + "/retry", key, "");
      case RETRY_ENDPOINT -> api.postJson("/v1/events/" + id + "/retry", key, named);
      case GET_ENDPOINT -> api.get("/v1/endpoints/" + id, key);
      case ENDPOINT_HEALTH -> api.get("/v1/endpoints/" + id + "/health", key);
      case PATCH_ENDPOINT -> api.patchJson("/v1/endpoints/" + id, key, "{\"description\":\"crossed\"}");
      case DELETE_ENDPOINT -> api.delete("/v1/endpoints/" + id, key);
      case ENABLE -> api.postJson("/v1/endpoints/" + id + "/enable", key, "");
      case ROTATE_SECRET -> api.postJson("/v1/endpoints/" + id + "/rotate-secret", key, "");
      case RECOVER -> api.postJson("/v1/endpoints/" + id + "/recover", key, "{\"since\":\"2020-01-01T00:00:00Z\"}");
    };
  }

  /** Whether the event's entity is running now, as the shard region reports it. */
  private static boolean live(String eventId) {
    return live(EventEntity.TYPE_KEY, eventId);
  }

  /** Whether the entity is running now, as its shard region reports it. */
  private static boolean live(EntityTypeKey<?> type, String entityId) {
    ActorSystem<Void> system = node.zyven().system();
    try {
      CurrentShardRegionState state = AskPattern.<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery, CurrentShardRegionState>ask(
              ClusterSharding.get(system).shardState(),
              (ActorRef<CurrentShardRegionState> replyTo) -> new GetShardRegionState(type, replyTo),
              Duration.ofSeconds(5),
              system.scheduler())
          .toCompletableFuture()
          .get();
      Set<String> ids = state.getShards().stream()
          .flatMap(s -> s.getEntityIds().stream())
          .collect(Collectors.toSet());
      return ids.contains(entityId);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** What a tenant has written: journal rows of its events and endpoints, read-model events, endpoints and their versions. */
  record Writes(long journal, long events, long endpoints, long versions) {
    static Writes of(String tenantId) {
      UUID t = UUID.fromString(tenantId);
      return new Writes(
          pg.count("SELECT count(*) FROM event_journal j WHERE j.persistence_id IN ("
              + " SELECT 'Event|' || event_id FROM events WHERE tenant_id = ?"
              + " UNION SELECT 'Endpoint|' || id FROM endpoints WHERE tenant_id = ?)", t, t),
          pg.count("SELECT count(*) FROM events WHERE tenant_id = ?", t),
          pg.count("SELECT count(*) FROM endpoints WHERE tenant_id = ? AND NOT deleted AND enabled", t),
          pg.count("SELECT coalesce(sum(version), 0) FROM endpoints WHERE tenant_id = ?", t));
    }
  }
}
