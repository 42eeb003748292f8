package io.zyven.app.readmodel;

import io.zyven.protocol.DeliveryStatus;
import java.time.Instant;
import java.util.List;

/** A page of {@code GET /v1/events}: summaries newest first, and the cursor of the next page. */
public record EventPage(List<Summary> data, String nextCursor) {

  /** An event as the read model has it: no payload, no attempt details. */
  public record Summary(
      String id,
      String type,
      DeliveryStatus status,
      Instant createdAt,
      Instant updatedAt,
      List<DeliverySummary> deliveries) {}

  public record DeliverySummary(
      String endpointId, DeliveryStatus status, int attemptCount, Instant nextAttemptAt, String lastError) {}

  /** Filters of the list; null means "any". The window is [since, until). */
  public record Filter(DeliveryStatus status, String type, String endpointId, Instant since, Instant until) {}
}
