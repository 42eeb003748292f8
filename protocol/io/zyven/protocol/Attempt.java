package io.zyven.protocol;

import java.time.Instant;

/**
 * One HTTP request made for a delivery. {@code statusCode} is null when no response came
 * (timeout, refused connection); {@code responseBody} keeps at most 4 KiB.
 */
public record Attempt(
    int number,
    Instant startedAt,
    Integer statusCode,
    long latencyMs,
    String error,
    String responseBody)
    implements CborSerializable {}
