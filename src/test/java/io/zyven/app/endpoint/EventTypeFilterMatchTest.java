package io.zyven.app.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The matcher of {@code event_types} patterns: the same answers as the regex it replaced,
 * and a number of character comparisons bounded by {@code 2n + 3m} (type length n, pattern
 * length m) whatever the pattern, hostile ones included.
 */
class EventTypeFilterMatchTest {

  @ParameterizedTest(name = "{0} ~ {1} -> {2}")
  @CsvSource({
    "*, '', true",
    "**, '', true",
    "*, a, true",
    "a*, a, true",
    "*a, a, true",
    "a*a, a, false",
    "a*a, aa, true",
    "a*a, aba, true",
    "*a*, bab, true",
    "*a*, bbb, false",
    "a*b*c, abc, true",
    "a*b*c, acb, false",
    "a*b*c, aXbYc, true",
    "a*b*c, abcbc, true",
    "*ab*ab*, abab, true",
    "*ab*ab*, aba, false",
    "*aab*, aaab, true",
    "*abab*, abaabab, true",
    "*abac*, ababac, true",
    "user.*.v2, user.created.v2, true",
    "user.*.v2, user.v2, false",
    "user.*.v2, user..v2, true",
    "*.*, a.b, true",
    "*.*, ab, false",
    "a**b, ab, true",
    "x*y*z, xzy, false",
    "*-*:*_*, a-b:c_d, true",
    "*-*:*_*, a:b-c_d, false",
  })
  void table(String pattern, String type, boolean expected) {
    assertEquals(expected, EventTypeFilter.matches(pattern, type));
    assertEquals(expected, reference(pattern, type));
  }

  @Property(tries = 2000)
  void sameAnswerAsTheRegexItReplaced(@ForAll("patterns") String pattern, @ForAll("types") String type) {
    EventTypeFilter.Steps steps = new EventTypeFilter.Steps();
    assertEquals(reference(pattern, type), EventTypeFilter.matches(pattern, type, steps), pattern + " ~ " + type);
    assertTrue(steps.comparisons <= bound(pattern, type), steps.comparisons + " comparisons");
  }

  @Property(tries = 500)
  void typesBuiltFromThePatternMatchIt(@ForAll("patterns") String pattern, @ForAll("types") String filler) {
    // Every star replaced by some run: must match.
    String type = pattern.replace("*", filler);
    assertTrue(EventTypeFilter.matches(pattern, type), pattern + " ~ " + type);
  }

  /**
   * 64 stars around a segment that almost occurs, against a 10 000-character type that
   * almost matches: a backtracking regex explores a number of splits exponential in the
   * stars; the matcher stays within its linear bound.
   */
  @org.junit.jupiter.api.Test
  void hostilePatternStaysWithinTheLinearBound() {
    String pattern = "*a".repeat(62) + "*b*"; // 64 stars
    assertEquals(64, pattern.chars().filter(ch -> ch == '*').count());
    assertTrue(EventTypeFilter.ENTRY.matcher(pattern).matches());
    String type = "a".repeat(10_000) + "c"; // every segment found, the last one never
    EventTypeFilter.Steps steps = new EventTypeFilter.Steps();
    assertFalse(EventTypeFilter.matches(pattern, type, steps));
    assertTrue(steps.comparisons <= bound(pattern, type), steps.comparisons + " comparisons");

    String middle = "*" + "ab*".repeat(42) + "c"; // segments that overlap with themselves
    String almost = "ab".repeat(5_000) + "x";
    steps = new EventTypeFilter.Steps();
    assertFalse(EventTypeFilter.matches(middle, almost, steps));
    assertTrue(steps.comparisons <= bound(middle, almost), steps.comparisons + " comparisons");

    String longSegment = "*" + "a".repeat(60) + "b*" + "a".repeat(60) + "b";
    String nearMisses = "a".repeat(10_000);
    steps = new EventTypeFilter.Steps();
    assertFalse(EventTypeFilter.matches(longSegment, nearMisses, steps));
    assertTrue(steps.comparisons <= bound(longSegment, nearMisses), steps.comparisons + " comparisons");
  }

  private static long bound(String pattern, String type) {
    return 2L * type.length() + 3L * pattern.length();
  }

  /** The old implementation: each star a {@code .*}, everything else quoted. */
  private static boolean reference(String pattern, String type) {
    if (pattern.indexOf('*') < 0) return pattern.equals(type);
    String[] parts = pattern.split("\\*", -1);
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) regex.append(".*");
      if (!parts[i].isEmpty()) regex.append(Pattern.quote(parts[i]));
    }
    return Pattern.matches(regex.toString(), type);
  }

  // A small alphabet, so that stars, repeats and near misses are frequent.
  @Provide
  Arbitrary<String> patterns() {
    return Arbitraries.strings().withChars('a', 'b', '.', '*').ofMinLength(1).ofMaxLength(10);
  }

  @Provide
  Arbitrary<String> types() {
    return Arbitraries.strings().withChars('a', 'b', '.').ofMinLength(0).ofMaxLength(16);
  }
}
