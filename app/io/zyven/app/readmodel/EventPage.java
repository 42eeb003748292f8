package io.zyven.app.readmodel;

import io.zyven.protocol.DeliveryStatus;
import java.time.Instant;
import java.util.List;
import java.util.Set;

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

  /**
   * Filters of the list; null means "any". The window is [since, until). {@code
   * endpointIds}: only events with a delivery to one of these endpoints, whose deliveries
   * to other endpoints are left out (a portal token limited to them).
   */
  public record Filter(
      DeliveryStatus status, String type, String endpointId, Instant since, Instant until, Set<String> endpointIds) {

    public Filter(DeliveryStatus status, String type, String endpointId, Instant since, Instant until) {
      this(status, type, endpointId, since, until, null);
    }

    /** This filter limited to events with a delivery to one of {@code ids}; null: no limit. */
    public Filter onlyEndpoints(Set<String> ids) {
      return new Filter(status, type, endpointId, since, until, ids);
    }
  }
}
