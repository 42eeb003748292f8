package io.zyven.protocol;

import java.time.Instant;
import java.util.List;

/**
 * Everything an event entity journals. The journal is the audit trail: each record is one
 * transition, with its time and reason, and {@code GET /v1/events/{id}/audit} shows them
 * as they are written here.
 */
public sealed interface EventJournal extends CborSerializable {

  Instant at();

  /**
   * The event was accepted. The fan-out is fixed here and never recomputed. {@code
   * requestId} names the HTTP request that was accepted: ingest may send it again, and that
   * resend is answered as the request was, not as a replay of its key. With {@code
   * firstAttemptStarted}, attempt 1 of every delivery began in this same record (one
   * journal row instead of one more per endpoint); journals written before it was there
   * follow with a {@link DispatchStarted} per delivery instead, and read as false. {@code
   * traceparent} is the W3C trace context of the ingest, which every delivery attempt
   * continues; null in journals written before it was there.
   */
  record Received(
      String eventId,
      String tenantId,
      String type,
      String payload,
      String idempotencyKey,
      String bodyHash,
      String requestId,
      List<String> endpointIds,
      Instant at,
      boolean firstAttemptStarted,
      String traceparent)
      implements EventJournal {

    /** As journaled before {@code firstAttemptStarted}: the first attempts follow. */
    public Received(
        String eventId, String tenantId, String type, String payload, String idempotencyKey,
        String bodyHash, String requestId, List<String> endpointIds, Instant at) {
      this(eventId, tenantId, type, payload, idempotencyKey, bodyHash, requestId, endpointIds, at, false, null);
    }

    /** As journaled before {@code traceparent}. */
    public Received(
        String eventId, String tenantId, String type, String payload, String idempotencyKey,
        String bodyHash, String requestId, List<String> endpointIds, Instant at, boolean firstAttemptStarted) {
      this(eventId, tenantId, type, payload, idempotencyKey, bodyHash, requestId, endpointIds, at, firstAttemptStarted, null);
    }

    /** The same record with its payload expunged (null). */
    public Received withoutPayload() {
      return new Received(
          eventId, tenantId, type, null, idempotencyKey, bodyHash, requestId, endpointIds, at, firstAttemptStarted,
          traceparent);
    }
  }

  /** Per-delivery transitions. */
  sealed interface DeliveryTransition extends EventJournal {
    String endpointId();

    DeliveryStatus to();
  }

  /** RECEIVED or RETRY_SCHEDULED → DISPATCHING: attempt {@code attempt} begins. */
  record DispatchStarted(String endpointId, int attempt, String reason, Instant at)
      implements DeliveryTransition {
    public DeliveryStatus to() {
      return DeliveryStatus.DISPATCHING;
    }
  }

  /**
   * RETRY_SCHEDULED → DISPATCHING before the retry was due, because {@code by} asked for it
   * (the receiver is fixed, say). It is the attempt the schedule would have made next, only
   * sooner, so it spends no more of the budget.
   */
  record RetryRequested(String endpointId, int attempt, String by, String reason, Instant at)
      implements DeliveryTransition {
    public DeliveryStatus to() {
      return DeliveryStatus.DISPATCHING;
    }
  }

  /** DISPATCHING → DELIVERED. */
  record Delivered(String endpointId, Attempt attempt, String reason, Instant at)
      implements DeliveryTransition {
    public DeliveryStatus to() {
      return DeliveryStatus.DELIVERED;
    }
  }

  /** DISPATCHING → RETRY_SCHEDULED, due at {@code nextAttemptAt}. */
  record RetryScheduled(
      String endpointId, Attempt attempt, Instant nextAttemptAt, String reason, Instant at)
      implements DeliveryTransition {
    public DeliveryStatus to() {
      return DeliveryStatus.RETRY_SCHEDULED;
    }
  }

  /**
   * DISPATCHING → RETRY_SCHEDULED without spending an attempt: the endpoint did not send
   * attempt {@code attempt} (circuit open, queue full) and asks to come back at
   * {@code nextAttemptAt}; or the event moved to another node before the attempt's outcome
   * came back, and the attempt is made again from there.
   */
  record AttemptDeferred(
      String endpointId, int attempt, Instant nextAttemptAt, String reason, Instant at)
      implements DeliveryTransition {
    public DeliveryStatus to() {
      return DeliveryStatus.RETRY_SCHEDULED;
    }
  }

  /**
   * The event's payload was expunged by {@code by} (personal data that must go now). The
   * event's {@link Received} is rewritten in the journal without its payload, and this
   * record says who did it and when. Not a delivery transition: the deliveries still open
   * are dead-lettered by {@link DeadLettered} records that follow it.
   */
  record PayloadExpunged(String by, Instant at) implements EventJournal {}

  /**
   * DISPATCHING (or RETRY_SCHEDULED, or RECEIVED, when the payload is expunged) →
   * DEAD_LETTERED. The payload and every attempt are kept. {@code attempt} is null when no
   * attempt belongs to the decision (the payload was expunged).
   */
  record DeadLettered(String endpointId, Attempt attempt, String reason, Instant at)
      implements DeliveryTransition {
    public DeliveryStatus to() {
      return DeliveryStatus.DEAD_LETTERED;
    }
  }

  /**
   * DISPATCHING → CANCELLED: the endpoint's transformation cancelled attempt {@code attempt}
   * before it was sent. Nothing was sent, and nothing failed.
   */
  record Cancelled(String endpointId, int attempt, String reason, Instant at) implements DeliveryTransition {
    public DeliveryStatus to() {
      return DeliveryStatus.CANCELLED;
    }
  }

  /**
   * An operator sent a terminal delivery back to DISPATCHING; attempt {@code attempt}
   * begins, with a fresh retry budget.
   */
  record Replayed(String endpointId, int attempt, String by, String reason, Instant at)
      implements DeliveryTransition {
    public DeliveryStatus to() {
      return DeliveryStatus.DISPATCHING;
    }
  }
}
