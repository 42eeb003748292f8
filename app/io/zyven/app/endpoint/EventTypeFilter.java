package io.zyven.app.endpoint;

import java.util.List;
import java.util.regex.Pattern;

/**
 * An endpoint's {@code event_types}: empty subscribes to everything; {@code *} matches any
 * run of characters, so {@code user.*} matches {@code user.created}.
 */
public final class EventTypeFilter {
  private EventTypeFilter() {}

  /** What one entry of {@code event_types} may look like. */
  public static final Pattern ENTRY = Pattern.compile("[A-Za-z0-9_.:*-]{1,128}");

  public static boolean subscribes(List<String> eventTypes, String type) {
    if (eventTypes.isEmpty()) return true;
    for (String pattern : eventTypes) {
      if (matches(pattern, type)) return true;
    }
    return false;
  }

  static boolean matches(String pattern, String type) {
    if (pattern.indexOf('*') < 0) return pattern.equals(type);
    return Pattern.matches(toRegex(pattern), type);
  }

  private static String toRegex(String pattern) {
    String[] parts = pattern.split("\\*", -1);
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) regex.append(".*");
      if (!parts[i].isEmpty()) regex.append(Pattern.quote(parts[i]));
    }
    return regex.toString();
  }
}
