package io.zyven.app.ingest;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * A test send ({@code POST /v1/endpoints/{id}/test}): an event ingested like any other,
 * targeted at one endpoint, under a fresh Idempotency-Key, so that it is journaled, signed,
 * retried and shown exactly as a real one. Its payload is the type's example when
 * {@link Examples} knows one, else a small ping.
 */
public final class TestSends {

  /** The type of a test send that names none. */
  public static final String PING_TYPE = "webhook.test";

  /**
   * Where a type's example payload comes from (JSON object text), or empty when none is
   * known: the event-type catalogue.
   */
  @FunctionalInterface
  public interface Examples {
    CompletionStage<Optional<String>> example(String tenantId, String type);
  }

  private final IngestService ingest;
  private final Examples examples;
  private final Executor ec;

  public TestSends(IngestService ingest, Examples examples, Executor ec) {
    this.ingest = ingest;
    this.examples = examples;
    this.ec = ec;
  }

  /**
   * Sends a test event of {@code type} (null: {@link #PING_TYPE}) to the endpoint. The type
   * must already be in the ingest grammar.
   */
  public CompletionStage<IngestResult> send(String tenantId, String endpointId, String type) {
    String eventType = type == null ? PING_TYPE : type;
    return examples
        .example(tenantId, eventType)
        .thenComposeAsync(
            example -> {
              String payload = example.orElseGet(() -> ping(eventType, endpointId, Instant.now()));
              // Fresh every time: a test send is a new event, never the replay of an earlier one.
              IdempotencyKey key = new IdempotencyKey("zyven-test-send-" + UUID.randomUUID());
              // The ping is Zyven's own type, like a verification challenge: the tenant's
              // catalogue rules (registered types only) do not apply to it. A named type
              // goes through them like any producer's event.
              return ingest.ingest(
                  tenantId, key, new NewEvent(eventType, payload, endpointId),
                  (key.value() + "\n" + payload).getBytes(StandardCharsets.UTF_8), null,
                  type == null ? IngestService.Origin.TEST_PING : IngestService.Origin.PRODUCER);
            },
            ec);
  }

  /**
   * {@code {"type": …, "test": true, "endpoint_id": …, "sent_at": …}}. Every part is in a
   * grammar that needs no JSON escaping (the type's, a UUID, an RFC 3339 instant).
   */
  static String ping(String type, String endpointId, Instant at) {
    return "{\"type\":\"" + type + "\",\"test\":true,\"endpoint_id\":\"" + endpointId + "\",\"sent_at\":\""
        + at.truncatedTo(ChronoUnit.MILLIS) + "\"}";
  }
}
