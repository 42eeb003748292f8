package io.zyven.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An endpoint as its entity holds it. {@code version} grows by one with every journaled
 * change, so copies of it elsewhere (the endpoints index) can refuse older writes. After a
 * rotation the previous secret keeps signing beside the new one until
 * {@code previousSecretExpiresAt}.
 */
public record EndpointConfig(
    String id,
    String tenantId,
    String url,
    String description,
    List<String> eventTypes,
    String secret,
    String previousSecret,
    Instant previousSecretExpiresAt,
    boolean enabled,
    int maxInFlight,
    Integer rateLimitPerSecond,
    int timeoutMs,
    int maxAttempts,
    Map<String, String> headers,
    Instant createdAt,
    Instant updatedAt,
    long version)
    implements CborSerializable {

  /** The secrets that sign a request sent at {@code now}: the current one first. */
  public List<String> signingSecrets(Instant now) {
    return previousSecret != null && now.isBefore(previousSecretExpiresAt)
        ? List.of(secret, previousSecret)
        : List.of(secret);
  }

  /** A copy with another enabled flag, at a new version. */
  public EndpointConfig withEnabled(boolean on, Instant at) {
    return new EndpointConfig(id, tenantId, url, description, eventTypes, secret, previousSecret,
        previousSecretExpiresAt, on, maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts,
        headers, createdAt, at, version + 1);
  }

  /** A copy signing with {@code newSecret}, the current one kept until {@code oldUntil}. */
  public EndpointConfig withRotatedSecret(String newSecret, Instant oldUntil, Instant at) {
    return new EndpointConfig(id, tenantId, url, description, eventTypes, newSecret, secret,
        oldUntil, enabled, maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts, headers,
        createdAt, at, version + 1);
  }
}
