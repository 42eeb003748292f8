package io.zyven.app.delivery;

import io.zyven.protocol.Attempt;
import io.zyven.protocol.CborSerializable;
import java.time.Duration;
import java.time.Instant;

/**
 * An endpoint's answers to a {@link Dispatch}. Each names the delivery (endpoint) and the
 * attempt it is about. They report what happened; what it means for the delivery is the
 * {@link DeliveryMachine}'s to decide.
 */
public sealed interface DispatchReply extends CborSerializable {
  String endpointId();

  int attemptNumber();

  /**
   * The request is being sent now; its outcome comes within {@code timeoutMs}. With the
   * endpoint's {@code maxAttempts}, so that a lost outcome is judged by the right budget.
   */
  record Started(String endpointId, int attemptNumber, int timeoutMs, int maxAttempts)
      implements DispatchReply {}

  /**
   * The attempt was made. {@code retryAfter} is the receiver's Retry-After, if it gave one;
   * {@code maxAttempts} is the endpoint's budget now.
   */
  record Outcome(String endpointId, Attempt attempt, Duration retryAfter, int maxAttempts)
      implements DispatchReply {
    public int attemptNumber() {
      return attempt.number();
    }
  }

  /** The attempt was not made (circuit open, queue full, moving): come back at {@code until}. */
  record Deferred(String endpointId, int attemptNumber, Instant until, String reason)
      implements DispatchReply {}

  /**
   * The attempt was not made and never will be: the endpoint is disabled or deleted, or its
   * transformation failed.
   */
  record Refused(String endpointId, int attemptNumber, String reason) implements DispatchReply {}

  /** The endpoint's transformation cancelled the attempt: nothing was sent, and nothing failed. */
  record Cancelled(String endpointId, int attemptNumber, String reason) implements DispatchReply {}
}
