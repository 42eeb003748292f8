package io.zyven.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An endpoint as its entity holds it. {@code version} grows by one with every journaled
 * change, so copies of it elsewhere (the endpoints index) can refuse older writes. After a
 * rotation the previous secret keeps signing beside the new one until
 * {@code previousSecretExpiresAt}.
 *
 * <p>{@code secret} and {@code previousSecret} are sealed (encrypted under the node's master
 * key, {@code v1:<key id>:…}); only journals written before sealing hold them in plain text.
 * They are opened only where a request is signed and where the secret route answers.
 *
 * <p>{@code internal} marks an alert channel's own endpoint: delivered to like any other,
 * but never in fan-out, lists, counts or stats, and never the subject of an operational
 * event. Journals written before it read as false.
 *
 * <p>{@code transformation} is the endpoint's payload transformation (JavaScript source),
 * null for none. {@code verification} is where its challenge-response verification stands,
 * null when it was never asked for. Journals written before either read as null.
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
    long version,
    boolean internal,
    String transformation,
    Verification verification)
    implements CborSerializable {

  /**
   * Challenge-response verification of the endpoint's URL: {@code state} is
   * {@code pending}, {@code verified} or {@code failed}; {@code error} says why it failed.
   */
  public record Verification(String state, Instant updatedAt, String error) implements CborSerializable {
    public boolean pending() {
      return !"verified".equals(state);
    }

    /** A challenge is to be sent, or is out and not answered yet. */
    public boolean running() {
      return "pending".equals(state);
    }

    public static Verification started(Instant at) {
      return new Verification("pending", at, null);
    }

    public static Verification passed(Instant at) {
      return new Verification("verified", at, null);
    }

    public static Verification failed(Instant at, String error) {
      return new Verification("failed", at, error);
    }
  }

  /** An endpoint with no transformation whose verification was never asked for. */
  public EndpointConfig(
      String id, String tenantId, String url, String description, List<String> eventTypes, String secret,
      String previousSecret, Instant previousSecretExpiresAt, boolean enabled, int maxInFlight,
      Integer rateLimitPerSecond, int timeoutMs, int maxAttempts, Map<String, String> headers,
      Instant createdAt, Instant updatedAt, long version, boolean internal) {
    this(id, tenantId, url, description, eventTypes, secret, previousSecret, previousSecretExpiresAt, enabled,
        maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts, headers, createdAt, updatedAt, version, internal,
        null, null);
  }

  /** A tenant's endpoint (not internal). */
  public EndpointConfig(
      String id, String tenantId, String url, String description, List<String> eventTypes, String secret,
      String previousSecret, Instant previousSecretExpiresAt, boolean enabled, int maxInFlight,
      Integer rateLimitPerSecond, int timeoutMs, int maxAttempts, Map<String, String> headers,
      Instant createdAt, Instant updatedAt, long version) {
    this(id, tenantId, url, description, eventTypes, secret, previousSecret, previousSecretExpiresAt, enabled,
        maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts, headers, createdAt, updatedAt, version, false);
  }

  /**
   * Whether the endpoint waits for its verification to pass: until then it receives no
   * events.
   */
  public boolean pendingVerification() {
    return verification != null && verification.pending();
  }

  /** {@code active}, {@code disabled} or {@code pending_verification}, as the API shows it. */
  public String status() {
    if (pendingVerification()) return "pending_verification";
    return enabled ? "active" : "disabled";
  }

  /** A copy with another verification state, at a new version. */
  public EndpointConfig withVerification(Verification v, Instant at) {
    return new EndpointConfig(id, tenantId, url, description, eventTypes, secret, previousSecret,
        previousSecretExpiresAt, enabled, maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts,
        headers, createdAt, at, version + 1, internal, transformation, v);
  }

  /** Whether the previous secret still signs beside the current one at {@code now}. */
  public boolean previousSecretSigns(Instant now) {
    return previousSecret != null && now.isBefore(previousSecretExpiresAt);
  }

  /** A copy with another enabled flag, at a new version. */
  public EndpointConfig withEnabled(boolean on, Instant at) {
    return new EndpointConfig(id, tenantId, url, description, eventTypes, secret, previousSecret,
        previousSecretExpiresAt, on, maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts,
        headers, createdAt, at, version + 1, internal, transformation, verification);
  }

  /** A copy holding the same secrets sealed again (under another master key), at a new version. */
  public EndpointConfig withResealedSecrets(String sealedSecret, String sealedPrevious, Instant at) {
    return new EndpointConfig(id, tenantId, url, description, eventTypes, sealedSecret, sealedPrevious,
        previousSecretExpiresAt, enabled, maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts, headers,
        createdAt, at, version + 1, internal, transformation, verification);
  }

  /** A copy signing with {@code newSecret}, the current one kept until {@code oldUntil}. */
  public EndpointConfig withRotatedSecret(String newSecret, Instant oldUntil, Instant at) {
    return new EndpointConfig(id, tenantId, url, description, eventTypes, newSecret, secret,
        oldUntil, enabled, maxInFlight, rateLimitPerSecond, timeoutMs, maxAttempts, headers,
        createdAt, at, version + 1, internal, transformation, verification);
  }
}
