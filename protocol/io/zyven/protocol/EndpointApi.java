package io.zyven.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Response bodies of {@code /v1/endpoints}. Requests are validated field by field. */
public final class EndpointApi {
  private EndpointApi() {}

  public record EndpointView(
      String id,
      String url,
      String description,
      List<String> eventTypes,
      String secret,
      Instant previousSecretExpiresAt,
      boolean enabled,
      int maxInFlight,
      Integer rateLimitPerSecond,
      int timeoutMs,
      int maxAttempts,
      Map<String, String> headers,
      Instant createdAt,
      Instant updatedAt) {

    public static EndpointView of(EndpointConfig c) {
      return new EndpointView(
          c.id(),
          c.url(),
          c.description(),
          c.eventTypes(),
          c.secret(),
          c.previousSecretExpiresAt(),
          c.enabled(),
          c.maxInFlight(),
          c.rateLimitPerSecond(),
          c.timeoutMs(),
          c.maxAttempts(),
          c.headers(),
          c.createdAt(),
          c.updatedAt());
    }
  }

  /** A page of endpoints, oldest first; {@code nextCursor} is null on the last page. */
  public record EndpointList(List<EndpointView> data, String nextCursor) {}
}
