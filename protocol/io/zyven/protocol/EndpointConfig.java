package io.zyven.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An endpoint as its entity holds it. {@code version} grows by one with every journaled
 * change, so copies of it elsewhere (the endpoints index) can refuse older writes.
 */
public record EndpointConfig(
    String id,
    String tenantId,
    String url,
    String description,
    List<String> eventTypes,
    String secret,
    boolean enabled,
    int maxInFlight,
    Integer rateLimitPerSecond,
    int timeoutMs,
    int maxAttempts,
    Map<String, String> headers,
    Instant createdAt,
    Instant updatedAt,
    long version)
    implements CborSerializable {}
