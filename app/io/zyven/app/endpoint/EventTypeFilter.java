package io.zyven.app.endpoint;

import java.util.List;
import java.util.regex.Pattern;

/**
 * An endpoint's {@code event_types}: empty subscribes to everything; {@code *} matches any
 * run of characters, so {@code user.*} matches {@code user.created}.
 *
 * <p>Runs on every ingest, so a pattern must not cost more than linear time in the type:
 * no backtracking regex. A pattern {@code s0*s1*…*sk} matches when the type starts with
 * {@code s0}, ends with {@code sk}, and holds {@code s1 … s(k-1)} in that order, without
 * overlap, in between. Taking the leftmost occurrence of each middle segment is enough
 * (anything found further right could also be found after a leftmost match), so each is
 * searched once, with Knuth–Morris–Pratt, starting where the previous one ended. The
 * searches scan disjoint stretches of the type, and KMP makes at most two comparisons per
 * character scanned plus two per pattern character for its table, so a match costs at
 * most {@code 2n + 3m} character comparisons for a type of length n and a pattern of
 * length m (m ≤ 128): linear in the type, whatever the number of stars.
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
    return matches(pattern, type, new Steps());
  }

  /** Counts the character comparisons of a match, so tests can check the bound above. */
  static final class Steps {
    long comparisons;
  }

  static boolean matches(String pattern, String type, Steps steps) {
    int star = pattern.indexOf('*');
    if (star < 0) {
      steps.comparisons += Math.min(pattern.length(), type.length());
      return pattern.equals(type);
    }
    int lastStar = pattern.lastIndexOf('*');
    int prefixLength = star;
    int suffixLength = pattern.length() - lastStar - 1;
    if (type.length() < prefixLength + suffixLength) return false;
    if (!regionEquals(pattern, 0, type, 0, prefixLength, steps)) return false;
    int end = type.length() - suffixLength; // middle segments must end at or before this
    if (!regionEquals(pattern, lastStar + 1, type, end, suffixLength, steps)) return false;
    int from = prefixLength;
    int segmentStart = star + 1;
    while (segmentStart <= lastStar) {
      int segmentEnd = pattern.indexOf('*', segmentStart);
      if (segmentEnd > segmentStart) {
        int found = indexOf(type, from, end, pattern, segmentStart, segmentEnd, steps);
        if (found < 0) return false;
        from = found + (segmentEnd - segmentStart);
      }
      segmentStart = segmentEnd + 1;
    }
    return true;
  }

  private static boolean regionEquals(String pattern, int p, String type, int t, int length, Steps steps) {
    for (int i = 0; i < length; i++) {
      steps.comparisons++;
      if (pattern.charAt(p + i) != type.charAt(t + i)) return false;
    }
    return true;
  }

  /**
   * Where {@code pattern[start, end)} first occurs in {@code type[from, limit)}, or -1:
   * Knuth–Morris–Pratt, which never moves back in the type.
   */
  private static int indexOf(String type, int from, int limit, String pattern, int start, int end, Steps steps) {
    int m = end - start;
    // failure[j]: the length of the longest proper border of the segment's first j+1 chars.
    int[] failure = new int[m];
    for (int j = 1, k = 0; j < m; j++) {
      while (true) {
        steps.comparisons++;
        if (pattern.charAt(start + j) == pattern.charAt(start + k)) {
          failure[j] = ++k;
          break;
        }
        if (k == 0) break;
        k = failure[k - 1];
      }
    }
    for (int i = from, k = 0; i < limit; i++) {
      while (true) {
        steps.comparisons++;
        if (type.charAt(i) == pattern.charAt(start + k)) {
          k++;
          break;
        }
        if (k == 0) break;
        k = failure[k - 1];
      }
      if (k == m) return i - m + 1;
    }
    return -1;
  }
}
