package io.zyven.app.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient.Response;

public final class ProblemAssertions {
  private ProblemAssertions() {}

  /** An RFC 9457 problem+json of {@code status}, with no internals in it. */
  public static void assertProblem(Response r, int status) {
    assertEquals(status, r.status(), r.body());
    assertEquals("application/problem+json", r.contentType());
    JsonNode p = r.json();
    assertEquals(status, p.get("status").asInt());
    assertTrue(p.hasNonNull("type") && p.hasNonNull("title") && p.hasNonNull("detail"), r.body());
    assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), "no internals: " + r.body());
  }
}
