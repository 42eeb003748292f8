package io.zyven.app.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Reading and writing {@code traceparent} as W3C Trace Context says. */
class TraceParentTest {
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String SPAN = "00f067aa0ba902b7";

  @Test
  void aValidHeaderIsReadAndWrittenBackTheSame() {
    TraceParent p = TraceParent.parse("00-" + TRACE + "-" + SPAN + "-01").orElseThrow();
    assertEquals(new TraceParent(TRACE, SPAN, true), p);
    assertEquals("00-" + TRACE + "-" + SPAN + "-01", p.header());
    assertEquals(new TraceParent(TRACE, SPAN, false), TraceParent.parse("00-" + TRACE + "-" + SPAN + "-00").orElseThrow());
  }

  @Test
  void malformedOrForbiddenHeadersAreIgnored() {
    for (String bad : new String[] {
        "", "garbage", "00-" + TRACE.toUpperCase() + "-" + SPAN + "-01", "00-" + "0".repeat(32) + "-" + SPAN + "-01",
        "00-" + TRACE + "-" + "0".repeat(16) + "-01", "ff-" + TRACE + "-" + SPAN + "-01",
        "00-" + TRACE + "-" + SPAN + "-01-extra", "00-" + TRACE.substring(1) + "-" + SPAN + "-01",
        "00-" + TRACE + "-" + SPAN + "-1"}) {
      assertEquals(Optional.empty(), TraceParent.parse(bad), bad);
    }
    assertEquals(Optional.empty(), TraceParent.parse(null));
  }

  @Test
  void aLaterVersionIsReadByItsVersionZeroPrefix() {
    assertEquals(
        Optional.of(new TraceParent(TRACE, SPAN, true)), TraceParent.parse("01-" + TRACE + "-" + SPAN + "-01-more"));
  }

  @Test
  void newTracesAndChildrenHaveValidFreshIds() {
    TraceParent root = TraceParent.newTrace(true);
    assertTrue(TraceParent.parse(root.header()).isPresent(), root.header());
    TraceParent child = root.newChild();
    assertEquals(root.traceId(), child.traceId());
    assertNotEquals(root.spanId(), child.spanId());
    assertNotEquals(root.traceId(), TraceParent.newTrace(true).traceId());
  }
}
