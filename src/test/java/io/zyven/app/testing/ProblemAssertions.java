package io.zyven.app.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient.Response;
import java.util.List;

public final class ProblemAssertions {
  private ProblemAssertions() {}

  /** Text that only a stack trace, a class name or a parser's own message would carry. */
  private static final List<String> INTERNALS =
      List.of("Exception", "\tat ", "Source", "REDACTED", "Feature", "(code ", "com.fasterxml", "jackson",
          "java.", "org.apache", "io.zyven");

  /** An RFC 9457 problem+json of {@code status}, with no internals in it. */
  public static void assertProblem(Response r, int status) {
    assertEquals(status, r.status(), r.body());
    assertEquals("application/problem+json", r.contentType());
    JsonNode p = r.json();
    assertEquals(status, p.get("status").asInt());
    assertTrue(p.hasNonNull("type") && p.hasNonNull("title") && p.hasNonNull("detail"), r.body());
    assertNoInternals(r.body());
  }

  /**
   * An RFC 9457 problem+json of {@code status} whose type is {@code urn:zyven:problem:<slug>},
   * with no internals in it.
   *
   * @return its detail
   */
  public static String assertProblem(Response r, int status, String slug) {
    assertProblem(r, status);
    assertEquals("urn:zyven:problem:" + slug, r.json().get("type").asText(), r.body());
    return r.json().get("detail").asText();
  }

  public static void assertNoInternals(String body) {
    for (String internal : INTERNALS) {
      assertFalse(body.contains(internal), "no internals (" + internal + "): " + body);
    }
  }
}
