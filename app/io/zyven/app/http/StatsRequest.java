package io.zyven.app.http;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The query of {@code GET /v1/stats?window=}: a window such as {@code 15m}, {@code 1h} or
 * {@code 900s}, from 1 minute to 24 hours (default 15m). Unknown parameters are refused.
 */
record StatsRequest(Duration window) {
  static final Duration DEFAULT_WINDOW = Duration.ofMinutes(15);
  static final Duration MIN_WINDOW = Duration.ofMinutes(1);
  static final Duration MAX_WINDOW = Duration.ofHours(24);
  private static final List<String> PARAMS = List.of("window");
  private static final Pattern WINDOW = Pattern.compile("([0-9]{1,6})([smh])");

  static StatsRequest parse(Map<String, String> query) {
    QueryParameters.requireKnown(query, PARAMS);
    String text = query.get("window");
    if (text == null) return new StatsRequest(DEFAULT_WINDOW);
    Matcher m = WINDOW.matcher(text);
    Duration window = null;
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      window = switch (m.group(2)) {
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
    if (window == null || window.compareTo(MIN_WINDOW) < 0 || window.compareTo(MAX_WINDOW) > 0) {
      throw Problems.badRequest(
          "window must be a number of seconds, minutes or hours (such as 900s, 15m or 1h) from 1m to 24h, got "
              + Problems.quote(text));
    }
    return new StatsRequest(window);
  }
}
