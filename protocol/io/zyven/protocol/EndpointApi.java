package io.zyven.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Response bodies of {@code /v1/endpoints}. Requests are validated field by field. */
public final class EndpointApi {
  private EndpointApi() {}

  /**
   * An endpoint. {@code secret} is there only in the answers to create and rotate-secret
   * (and {@link SecretView} to the secret route): never in a GET, a list or the index.
   */
  public record EndpointView(
      String id,
      String url,
      String description,
      List<String> eventTypes,
      @JsonInclude(JsonInclude.Include.NON_NULL) String secret,
      Instant previousSecretExpiresAt,
      boolean enabled,
      int maxInFlight,
      Integer rateLimitPerSecond,
      int timeoutMs,
      int maxAttempts,
      Map<String, String> headers,
      Instant createdAt,
      Instant updatedAt,
      String transformation,
      String status,
      EndpointConfig.Verification verification,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> warnings) {

    public static EndpointView of(EndpointConfig c) {
      return new EndpointView(
          c.id(),
          c.url(),
          c.description(),
          c.eventTypes(),
          null,
          c.previousSecretExpiresAt(),
          c.enabled(),
          c.maxInFlight(),
          c.rateLimitPerSecond(),
          c.timeoutMs(),
          c.maxAttempts(),
          c.headers(),
          c.createdAt(),
          c.updatedAt(),
          c.transformation(),
          c.status(),
          c.verification(),
          null);
    }

    /** This view with the current secret in clear: for create and rotate-secret only. */
    public EndpointView withSecret(String clear) {
      return new EndpointView(id, url, description, eventTypes, clear, previousSecretExpiresAt, enabled,
          maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts, headers, createdAt, updatedAt, transformation, status,
          verification, warnings);
    }

    /**
     * This view with {@code warnings} about the request (create and update only): its
     * {@code event_types} entries that match no registered type. Left out when empty.
     */
    public EndpointView withWarnings(List<String> warnings) {
      return new EndpointView(id, url, description, eventTypes, secret, previousSecretExpiresAt, enabled,
          maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts, headers, createdAt, updatedAt, transformation, status,
          verification, warnings);
    }
  }

  /** {@code GET /v1/endpoints/{id}/secret}: the previous secret only while it still signs. */
  public record SecretView(
      String secret,
      @JsonInclude(JsonInclude.Include.NON_NULL) String previousSecret,
      @JsonInclude(JsonInclude.Include.NON_NULL) Instant previousSecretExpiresAt) {}

  /** A page of endpoints, oldest first; {@code nextCursor} is null on the last page. */
  public record EndpointList(List<EndpointView> data, String nextCursor) {}
}
