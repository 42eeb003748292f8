package io.zyven.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Response bodies of {@code /v1/events}. */
public final class EventApi {
  private EventApi() {}

  public record EventAccepted(String eventId, String status) {
    public static EventAccepted of(String eventId) {
      return new EventAccepted(eventId, "accepted");
    }
  }

  /** {@code payload} is null, and {@code payload_expunged_at} set, once the payload is expunged. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record EventView(
      String id,
      String type,
      DeliveryStatus status,
      @JsonRawValue String payload,
      Instant createdAt,
      Instant payloadExpungedAt,
      List<DeliveryView> deliveries) {}

  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record DeliveryView(
      String endpointId,
      DeliveryStatus status,
      int attemptCount,
      Instant nextAttemptAt,
      String lastError,
      List<AttemptView> attempts) {}

  /** {@code responseBody}: the first 4 KiB of what the receiver answered, as text. */
  public record AttemptView(
      int number, Instant startedAt, Integer statusCode, long latencyMs, String error, String responseBody) {
    public static AttemptView of(Attempt a) {
      return new AttemptView(
          a.number(), a.startedAt(), a.statusCode(), a.latencyMs(), a.error(), a.responseBody());
    }
  }

  /**
   * One attempt as the read model lists it ({@code GET /v1/events/{id}/attempts}): every
   * attempt ever made, without the receiver's response body (kept only in the journal and,
   * for the latest attempts, in {@code GET /v1/events/{id}}).
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record AttemptEntry(
      String endpointId, int number, Instant startedAt, Integer statusCode, long latencyMs, String error) {}

  /** A page of attempts, by endpoint then number; {@code nextCursor} is null on the last page. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record AttemptPage(List<AttemptEntry> data, String nextCursor) {}

  /** Each entry is {@code {sequence_nr, timestamp, type, …fields of the journaled event}}. */
  public record AuditView(String eventId, List<Map<String, Object>> entries) {}
}
