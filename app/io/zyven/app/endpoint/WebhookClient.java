package io.zyven.app.endpoint;

import io.zyven.app.delivery.DeliveryRequest;
import io.zyven.app.store.SecretBox;
import io.zyven.app.telemetry.LogContext;
import io.zyven.app.telemetry.TraceParent;
import io.zyven.app.telemetry.Tracing;
import io.zyven.app.transform.Transformations;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.EndpointConfig;
import io.zyven.protocol.Signature;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.javadsl.ClientTransport;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one signed webhook request through the Pekko HTTP client and reports what
 * happened. It never fails: every failure becomes an {@link Attempt} with an error. The
 * response body is always consumed (the first 4 KiB kept); redirects are not followed.
 */
public final class WebhookClient {
  public static final String USER_AGENT = "Zyven/0.1.0";
  private static final int KEPT_BODY_BYTES = 4096;
  private static final Set<String> TRACE_HEADERS = Set.of("traceparent", "tracestate");
  private static final Logger log = LoggerFactory.getLogger(WebhookClient.class);

  /**
   * The attempt, and the receiver's Retry-After if it gave one; or, with {@code notSent},
   * no attempt (null): the endpoint's transformation kept the request from being sent.
   */
  public record Result(Attempt attempt, Duration retryAfter, NotSent notSent) {
    public Result(Attempt attempt, Duration retryAfter) {
      this(attempt, retryAfter, null);
    }
  }

  /** Why no request was sent, and what the delivery does about it. */
  public record NotSent(Kind kind, String reason) {
    public enum Kind {
      /** The transformation cancelled the delivery. */
      CANCELLED,
      /** The transformation failed: the delivery is dead-lettered. */
      FAILED,
      /** Every transformation runner was busy: try again in a moment. */
      BUSY
    }
  }

  /**
   * The connection pool of one endpoint. Pekko HTTP keys its host pools by host, port and
   * settings; the transport is part of the settings and compares by identity. So an
   * endpoint entity that holds a Pool of its own has connections of its own, and its
   * max_in_flight is not shared with every endpoint on the same host and port (one SaaS
   * receiver, many tenants). An idle pool shuts itself down
   * ({@code pekko.http.host-connection-pool.idle-timeout}).
   */
  public static final class Pool {
    private final ClientTransport transport;
    // What the endpoint's config as last seen needs, made once per config change, not per
    // request: its pool settings (the pool is looked up by them, so they are hashed on
    // every send) and its secrets (opened rather than decrypted per request).
    private EndpointConfig preparedFor;
    private Prepared prepared;

    private Pool(ClientTransport transport) {
      this.transport = transport;
    }
  }

  /** An endpoint's secrets in clear, or why they would not open. */
  private record Secrets(String current, String previous, String error) {}

  private final ActorSystem<?> system;
  private final SecretBox box;
  private final Http http;
  private final LoggingAdapter poolLog;
  private final Tracing tracing;
  private final TargetGuard guard;
  private final Duration connectTimeout;
  private final Executor ec;
  private final ConnectionPoolSettings basePool;
  private final ClientConnectionSettings baseConnection;

  public WebhookClient(ActorSystem<?> system, SecretBox box, TargetGuard guard, Duration connectTimeout) {
    this.system = system;
    this.box = box;
    this.http = Http.get(system);
    this.poolLog = Adapter.toClassic(system).log();
    this.tracing = Tracing.get(system);
    this.guard = guard;
    this.connectTimeout = connectTimeout;
    this.ec = system.executionContext();
    this.basePool = ConnectionPoolSettings.create(system.settings().config());
    this.baseConnection = ClientConnectionSettings.create(system.settings().config());
  }

  public Pool newPool() {
    // Every connection resolves its host through the SSRF guard (DNS may have changed).
    return new Pool(ClientTransport.withCustomResolver((host, port) -> guard.resolveAsync(host, (Integer) port)));
  }

  /**
   * Sends the request, through the endpoint's transformation first when it has one: the
   * transformed body is what is signed and sent.
   */
  public CompletionStage<Result> send(Pool pool, EndpointConfig endpoint, DeliveryRequest request) {
    if (endpoint.transformation() == null) return sendAsIs(pool, endpoint, request);
    return Transformations.get(system)
        .apply(endpoint.transformation(), request.eventType(), request.eventId(), request.payload())
        .thenComposeAsync(
            result -> {
              if (result instanceof Transformations.Transformed t) return send(pool, endpoint, request, t.body(), t.headers());
              NotSent notSent =
                  result instanceof Transformations.Cancelled
                      ? new NotSent(NotSent.Kind.CANCELLED, "cancelled by the endpoint's transformation")
                      : result instanceof Transformations.Failed f
                          ? new NotSent(NotSent.Kind.FAILED, f.reason())
                          : new NotSent(NotSent.Kind.BUSY, "transformation runners busy");
              return CompletableFuture.completedFuture(new Result(null, null, notSent));
            },
            ec);
  }

  /**
   * Sends the request's payload as it is, never through the endpoint's transformation: for
   * what Zyven itself sends to an endpoint (a verification challenge), whose shape is
   * Zyven's contract with the receiver. The result always has an attempt.
   */
  public CompletionStage<Result> sendAsIs(Pool pool, EndpointConfig endpoint, DeliveryRequest request) {
    return send(pool, endpoint, request, request.payload(), Map.of());
  }

  private CompletionStage<Result> send(
      Pool pool, EndpointConfig endpoint, DeliveryRequest request, String payload, Map<String, String> extraHeaders) {
    Instant startedAt = Instant.now();
    long t0 = System.nanoTime();
    byte[] body = payload.getBytes(StandardCharsets.UTF_8);
    // Each attempt is a span of the event's trace; the receiver gets its context.
    Tracing.Span span =
        tracing
            .start("attempt", Tracing.Kind.CLIENT, TraceParent.parse(request.traceparent()).orElse(null))
            .attribute("zyven.event_id", request.eventId())
            .attribute("zyven.endpoint_id", endpoint.id())
            .attribute("zyven.attempt", request.attempt());
    Prepared prepared = prepared(pool, endpoint);
    Secrets secrets = prepared.secrets();
    if (secrets.error() != null) {
      // Nothing is sent unsigned: the attempt fails (and is retried) until the node has the key.
      span.error(secrets.error()).end();
      return CompletableFuture.completedFuture(
          new Result(new Attempt(request.attempt(), startedAt, null, 0, secrets.error(), null), null));
    }
    HttpRequest httpRequest =
        HttpRequest.POST(endpoint.url())
            .withEntity(ContentTypes.APPLICATION_JSON, body)
            .addHeaders(headers(endpoint, extraHeaders, secrets, request, startedAt, body, span.context()));
    Duration timeout = Duration.ofMillis(endpoint.timeoutMs());

    CompletableFuture<HttpResponse> response =
        http.singleRequest(httpRequest, http.defaultClientHttpsContext(), prepared.settings(), poolLog)
            .toCompletableFuture();
    return response
        .thenComposeAsync(r -> keepBody(r).thenApplyAsync(kept -> new Received(r, kept), ec), ec)
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .handleAsync(
            (received, error) -> {
              long latency = (System.nanoTime() - t0) / 1_000_000;
              if (error != null) {
                // A response that comes after the deadline must still be drained.
                response.thenAcceptAsync(late -> late.discardEntityBytes(system), ec);
                String errorText = describe(error, timeout);
                span.error(errorText).end();
                return new Result(new Attempt(request.attempt(), startedAt, null, latency, errorText, null), null);
              }
              int status = received.response().status().intValue();
              String errorText = status >= 200 && status < 300 ? null : "HTTP " + status;
              span.attribute("http.response.status_code", status);
              if (errorText != null) span.error(errorText);
              span.end();
              return new Result(
                  new Attempt(request.attempt(), startedAt, status, latency, errorText, received.body()),
                  retryAfter(received.response(), Instant.now()));
            },
            ec);
  }

  private record Received(HttpResponse response, String body) {}

  private List<HttpHeader> headers(
      EndpointConfig endpoint, Map<String, String> extra, Secrets secrets, DeliveryRequest request, Instant now,
      byte[] body, TraceParent trace) {
    long timestamp = now.getEpochSecond();
    List<String> signing =
        endpoint.previousSecretSigns(now) ? List.of(secrets.current(), secrets.previous()) : List.of(secrets.current());
    String signature = Signature.header(signing, request.eventId(), timestamp, body);
    List<HttpHeader> headers = new ArrayList<>();
    for (Map.Entry<String, String> h : endpoint.headers().entrySet()) {
      // The trace context is Zyven's to set (an endpoint saved before these were reserved).
      if (TRACE_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) continue;
      // A header the transformation sets replaces the endpoint's own of that name.
      if (extra.keySet().stream().anyMatch(h.getKey()::equalsIgnoreCase)) continue;
      headers.add(RawHeader.create(h.getKey(), h.getValue()));
    }
    // Checked by the transformation's runner already (HeaderRules): none is Zyven's own.
    extra.forEach((name, value) -> headers.add(RawHeader.create(name, value)));
    headers.add(RawHeader.create(TraceParent.HEADER, trace.header()));
    headers.add(RawHeader.create("webhook-id", request.eventId()));
    headers.add(RawHeader.create("webhook-timestamp", Long.toString(timestamp)));
    headers.add(RawHeader.create("webhook-signature", signature));
    headers.add(RawHeader.create("X-Webhook-Id", request.eventId()));
    headers.add(RawHeader.create("X-Delivery-Id", randomUuid().toString()));
    headers.add(RawHeader.create("X-Timestamp", Long.toString(timestamp)));
    headers.add(RawHeader.create("X-Signature", signature));
    headers.add(RawHeader.create("X-Event-Type", request.eventType()));
    return headers;
  }

  /** A version-4 UUID that is unique, not secret: no SecureRandom (a lock) on every request. */
  private static UUID randomUuid() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long msb = (random.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }

  private record Prepared(ConnectionPoolSettings settings, Secrets secrets) {}

  /** The endpoint's pool settings and opened secrets, once per config (a config is replaced, never changed). */
  private Prepared prepared(Pool pool, EndpointConfig endpoint) {
    synchronized (pool) {
      if (pool.preparedFor != endpoint) {
        pool.prepared = new Prepared(newPoolSettings(pool, endpoint), open(endpoint));
        pool.preparedFor = endpoint;
      }
      return pool.prepared;
    }
  }

  private Secrets open(EndpointConfig endpoint) {
    try {
      return new Secrets(box.open(endpoint.id(), endpoint.secret()), box.open(endpoint.id(), endpoint.previousSecret()), null);
    } catch (SecretBox.CannotOpen e) {
      // Which key is missing, never the secret; once per config, not per request.
      LogContext.log(endpoint.tenantId(), null, endpoint.id(),
          () -> log.error("Cannot sign for endpoint {}: {}", endpoint.id(), e.getMessage()));
      return new Secrets(null, null, "cannot open the endpoint's signing secret on this node (see its log)");
    }
  }

  // As many connections as the endpoint may have requests in flight; a connection silent
  // for the attempt timeout is closed, freeing its slot.
  private ConnectionPoolSettings newPoolSettings(Pool pool, EndpointConfig endpoint) {
    Duration timeout = Duration.ofMillis(endpoint.timeoutMs());
    ClientConnectionSettings connection =
        baseConnection
            .withConnectingTimeout(connectTimeout.compareTo(timeout) < 0 ? connectTimeout : timeout)
            .withIdleTimeout(timeout)
            .withTransport(pool.transport);
    return basePool
        .withMaxConnections(endpoint.maxInFlight())
        .withMaxOpenRequests(1024)
        .withMaxRetries(0)
        // A refused connection should fail attempts quickly (the circuit breaker protects
        // the host), not leave them waiting in the pool behind a reconnect backoff of minutes.
        .withMaxConnectionBackoff(Duration.ofSeconds(1))
        .withConnectionSettings(connection);
  }

  /**
   * Reads the first 4 KiB of the body and no more: past them the stream is cancelled, which
   * closes the connection, so a receiver sending 100 MB costs what 4 KiB cost.
   */
  private CompletionStage<String> keepBody(HttpResponse response) {
    return response
        .entity()
        .getDataBytes()
        .scan(
            ByteString.emptyByteString(),
            (kept, chunk) -> kept.concat(chunk.take(KEPT_BODY_BYTES - kept.size())))
        .takeWhile(kept -> kept.size() < KEPT_BODY_BYTES, true)
        .runWith(Sink.last(), system)
        // With the executor: a Pekko stage's plain thenApply runs on the common pool, which
        // on two cores starts a thread per task.
        .thenApplyAsync(ByteString::utf8String, ec);
  }

  /** Retry-After as seconds or as an HTTP date; null when absent or unreadable. */
  static Duration retryAfter(HttpResponse response, Instant now) {
    Optional<String> value = response.getHeader("Retry-After").map(HttpHeader::value);
    if (value.isEmpty()) return null;
    String v = value.get().trim();
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        return at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO;
      } catch (RuntimeException unreadable) {
        return null;
      }
    }
  }

  private static String describe(Throwable error, Duration timeout) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    if (root instanceof TimeoutException) return "timeout after " + timeout.toMillis() + " ms";
    if (root instanceof TargetGuard.Refused) return "refused: " + root.getMessage();
    String message = root.getMessage() == null ? "" : ": " + root.getMessage();
    String text = root.getClass().getSimpleName() + message;
    return text.length() > 500 ? text.substring(0, 500) : text;
  }
}
