package io.zyven.app.transform;

import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which extra headers a delivery may carry, whether an endpoint's own {@code headers} or
 * those its transformation adds: Zyven's signature, identity and framing headers are its
 * own to set.
 */
public final class HeaderRules {
  private HeaderRules() {}

  public static final int MAX_HEADERS = 20;
  public static final int MAX_VALUE_LENGTH = 1024;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9-]{1,64}");
  // Headers Zyven sets itself on every delivery. Hop-by-hop and framing headers would break
  // the request if forwarded.
  private static final Set<String> RESERVED =
      Set.of("content-type", "content-length", "content-encoding", "host", "user-agent",
          "transfer-encoding", "connection", "keep-alive", "upgrade", "expect", "te", "trailer",
          "proxy-authorization", "proxy-connection", "x-webhook-id", "x-delivery-id",
          "x-timestamp", "x-signature", "x-event-type", "traceparent", "tracestate");

  /** Whether Zyven sets {@code name} itself (every {@code webhook-*} header too). */
  public static boolean reserved(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return RESERVED.contains(lower) || lower.startsWith("webhook-");
  }

  /**
   * What is wrong with header {@code name: value} beside {@code others}, or null when it may
   * be sent. A null value is one that is not a string.
   */
  public static String problem(String name, String value, Collection<String> others) {
    if (!NAME.matcher(name).matches() || reserved(name)) return "header " + quote(name) + " is not allowed";
    if (value == null || value.length() > MAX_VALUE_LENGTH || !value.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
      return "header " + quote(name) + " must be printable ASCII of at most " + MAX_VALUE_LENGTH + " characters";
    }
    if (others.stream().anyMatch(name::equalsIgnoreCase)) return "header " + quote(name) + " is given twice";
    return null;
  }

  /** Untrusted, so cut short as the API's problems cut every echo (40 code points). */
  private static String quote(String name) {
    String s = name;
    if (s.codePointCount(0, s.length()) > 40) s = s.substring(0, s.offsetByCodePoints(0, 40)) + "…";
    return "'" + s + "'";
  }
}
