package io.zyven.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Ceiling (b): the same Pekko HTTP server as Zyven (same version, Zyven's own
 * application.conf for the HTTP settings, the routing DSL, the typed actor system's
 * dispatcher) answering {@code POST /v1/events} with 202 and no persistence: it reads the
 * whole body, checks that the Authorization and Idempotency-Key headers are there, derives
 * the event id as Zyven does (name-based UUID of tenant + key) and answers
 * {@code {"event_id":..., "status":"accepted"}}.
 *
 * <p>Usage: {@code Http202 <port>}
 */
public final class Http202 extends AllDirectives {
  private final ActorSystem<Void> system;
  private final Executor ec;

  private Http202(ActorSystem<Void> system) {
    this.system = system;
    this.ec = system.executionContext();
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    // Zyven's configuration (application.conf from target/classes), but a local actor
    // system: no cluster, no persistence.
    Config config =
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING")
            .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "ceiling", config);
    Http202 server = new Http202(system);
    Http.get(system).newServerAt("127.0.0.1", port).bind(server.route()).toCompletableFuture().get();
    System.out.println("202 server listening on 127.0.0.1:" + port);
  }

  private Route route() {
    return path(
        PathMatchers.segment("v1").slash("events"),
        () -> post(() -> extractRequest(request -> completeWithFuture(accept(request)))));
  }

  private CompletionStage<HttpResponse> accept(HttpRequest request) {
    String auth = request.getHeader("Authorization").map(h -> h.value()).orElse("");
    String key = request.getHeader("Idempotency-Key").map(h -> h.value()).orElse("");
    return request
        .entity()
        .toStrict(5_000, system)
        .thenApplyAsync(
            strict -> {
              byte[] body = strict.getData().toArray();
              if (auth.isEmpty() || key.isEmpty() || body.length == 0) {
                return HttpResponse.create().withStatus(400);
              }
              String id =
                  UUID.nameUUIDFromBytes((auth + "\n" + key).getBytes(StandardCharsets.UTF_8)).toString();
              return HttpResponse.create()
                  .withStatus(202)
                  .withEntity(
                      ContentTypes.APPLICATION_JSON,
                      "{\"event_id\":\"" + id + "\",\"status\":\"accepted\"}");
            },
            ec);
  }
}
