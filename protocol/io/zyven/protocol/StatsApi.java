package io.zyven.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/** Response bodies of {@code GET /v1/stats} and {@code GET /v1/endpoints/{id}/health}. */
public final class StatsApi {
  private StatsApi() {}

  /**
   * The tenant's activity over a window, in buckets oldest first (every bucket, zeros
   * included). {@code successRate} is null when no attempt started in the window.
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Stats(
      long windowSeconds,
      long bucketSeconds,
      List<Bucket> buckets,
      Double successRate,
      long deadLetters,
      EndpointCounts endpoints) {}

  /**
   * {@code accepted}: events accepted in the bucket; {@code delivered}: deliveries that
   * became DELIVERED in it; {@code failedAttempts}: attempts started in it without a 2xx.
   */
  public record Bucket(Instant start, long accepted, long delivered, long failedAttempts) {}

  /**
   * The tenant's endpoints (deleted ones are not counted): {@code enabled} (receiving),
   * {@code disabled} and {@code pendingVerification} (enabled, but receiving nothing until
   * it echoes its challenge) add up to {@code total}. {@code circuitOpen}: enabled
   * endpoints whose circuit is open (or half-open); {@code failing}: enabled endpoints whose
   * circuit is open or whose last attempt in the window failed.
   */
  public record EndpointCounts(
      long total, long enabled, long disabled, long pendingVerification, long circuitOpen, long failing) {}

  /**
   * One endpoint's health. {@code circuit}, {@code failingSince}, {@code inFlight} and
   * {@code queued} are live, from the endpoint itself; the rest is from the read model.
   * {@code circuit} is "closed", "open" or "half_open".
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record EndpointHealth(
      String endpointId,
      boolean enabled,
      String circuit,
      Instant failingSince,
      int inFlight,
      int queued,
      long attemptsLastHour,
      Double successRateLastHour,
      Instant lastAttemptAt,
      String lastError) {}
}
