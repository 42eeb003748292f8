package io.zyven.app.telemetry;

import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A W3C Trace Context {@code traceparent}: {@code 00-<trace id>-<span id>-<flags>}, with a
 * 32-hex trace id and a 16-hex span id, neither all zeros, and only the sampled flag kept.
 */
public record TraceParent(String traceId, String spanId, boolean sampled) {
  public static final String HEADER = "traceparent";

  private static final Pattern FORMAT = Pattern.compile("([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?");
  private static final String ZERO_TRACE = "0".repeat(32);
  private static final String ZERO_SPAN = "0".repeat(16);

  /**
   * Reads a header value as the specification says a receiver must: version {@code ff},
   * zero ids and anything malformed are ignored (empty: start a new trace); a later version
   * is read by its version-00 prefix.
   */
  public static Optional<TraceParent> parse(String header) {
    if (header == null || header.length() > 512) return Optional.empty();
    var m = FORMAT.matcher(header.trim());
    if (!m.matches()) return Optional.empty();
    String version = m.group(1);
    if (version.equals("ff") || (version.equals("00") && m.group(5) != null)) return Optional.empty();
    if (m.group(2).equals(ZERO_TRACE) || m.group(3).equals(ZERO_SPAN)) return Optional.empty();
    boolean sampled = (HexFormat.fromHexDigits(m.group(4)) & 1) == 1;
    return Optional.of(new TraceParent(m.group(2), m.group(3), sampled));
  }

  /** The header value. */
  public String header() {
    return "00-" + traceId + "-" + spanId + "-" + (sampled ? "01" : "00");
  }

  /** The start of a new trace. */
  static TraceParent newTrace(boolean sampled) {
    return new TraceParent(randomHex(16), randomHex(8), sampled);
  }

  /** A new span in the same trace. */
  TraceParent newChild() {
    return new TraceParent(traceId, randomHex(8), sampled);
  }

  // Ids need to be unique, not secret: no SecureRandom (a lock) on the hot path.
  private static String randomHex(int bytes) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    byte[] b = new byte[bytes];
    do {
      random.nextBytes(b);
    } while (allZero(b));
    return HexFormat.of().formatHex(b);
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) if (x != 0) return false;
    return true;
  }

  @Override
  public String toString() {
    return header();
  }
}
