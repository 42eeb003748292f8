package io.zyven.app.endpoint;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** An endpoint's {@code event_types}: which event types it subscribes to. */
class EventTypeFilterTest {

  @Test
  void emptyListMatchesEveryType() {
    assertTrue(EventTypeFilter.subscribes(List.of(), "user.created"));
    assertTrue(EventTypeFilter.subscribes(List.of(), "anything"));
    assertTrue(EventTypeFilter.subscribes(List.of(), "a:b-c_d"));
  }

  @Test
  void patternWithoutStarMatchesExactlyItself() {
    assertTrue(EventTypeFilter.subscribes(List.of("user.created"), "user.created"));
    assertFalse(EventTypeFilter.subscribes(List.of("user.created"), "user.deleted"));
    assertFalse(EventTypeFilter.subscribes(List.of("user.created"), "user.created.v2"));
    assertFalse(EventTypeFilter.subscribes(List.of("user.created"), "User.created"));
    assertFalse(EventTypeFilter.subscribes(List.of("user.created"), "user"));
  }

  @Test
  void anyEntryOfTheListMayMatch() {
    List<String> types = List.of("order.paid", "user.created");
    assertTrue(EventTypeFilter.subscribes(types, "user.created"));
    assertTrue(EventTypeFilter.subscribes(types, "order.paid"));
    assertFalse(EventTypeFilter.subscribes(types, "order.created"));
  }

  @Test
  void trailingStarMatchesEveryTypeUnderThePrefix() {
    List<String> types = List.of("user.*");
    assertTrue(EventTypeFilter.subscribes(types, "user.created"));
    assertTrue(EventTypeFilter.subscribes(types, "user.a.b"));
    assertFalse(EventTypeFilter.subscribes(types, "users.created"));
    assertFalse(EventTypeFilter.subscribes(types, "user"));
    assertFalse(EventTypeFilter.subscribes(types, "order.user.created"));
  }

  @Test
  void starAloneMatchesEverything() {
    assertTrue(EventTypeFilter.subscribes(List.of("*"), "user.created"));
    assertTrue(EventTypeFilter.subscribes(List.of("*"), "x"));
    assertTrue(EventTypeFilter.subscribes(List.of("*"), "a.b.c:d-e_f"));
  }

  @Test
  void leadingStarMatchesEveryTypeWithTheSuffix() {
    List<String> types = List.of("*.created");
    assertTrue(EventTypeFilter.subscribes(types, "user.created"));
    assertTrue(EventTypeFilter.subscribes(types, "a.b.created"));
    assertFalse(EventTypeFilter.subscribes(types, "user.creation"));
    assertFalse(EventTypeFilter.subscribes(types, "user.created.v2"));
    assertFalse(EventTypeFilter.subscribes(types, "usercreated"));
  }

  @Test
  void starInTheMiddleMatchesAnyRun() {
    assertTrue(EventTypeFilter.matches("user.*.v2", "user.created.v2"));
    assertFalse(EventTypeFilter.matches("user.*.v2", "user.created.v3"));
  }

  @Test
  void regexMetacharactersInAPatternAreLiteral() {
    // Without a star: exact comparison.
    assertFalse(EventTypeFilter.matches("a.b", "aXb"));
    assertTrue(EventTypeFilter.matches("a.b", "a.b"));
    // With a star: the rest of the pattern is still literal, not a regex.
    assertFalse(EventTypeFilter.matches("a.b*", "aXbc"));
    assertTrue(EventTypeFilter.matches("a.b*", "a.bc"));
    assertFalse(EventTypeFilter.matches("*.b", "xXb"));
    assertFalse(EventTypeFilter.matches("a+*", "aa"));
    assertTrue(EventTypeFilter.matches("a+*", "a+b"));
    assertFalse(EventTypeFilter.matches("[ab]*", "a"));
    assertTrue(EventTypeFilter.matches("[ab]*", "[ab]x"));
    assertFalse(EventTypeFilter.matches("a?*", "b"));
  }
}
