package io.zyven.app.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.EndpointConfig;
import io.zyven.protocol.EndpointConfig.Verification;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What counts as echoing a challenge, and where an update leaves an endpoint's verification. */
class ChallengesTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final String C = Challenges.newChallenge();

  @Test
  void aChallengeIsUnguessableAndItsBodyIsTheDocumentedJson() throws Exception {
    assertEquals(43, C.length()); // 32 bytes, base64url without padding
    assertTrue(C.matches("[A-Za-z0-9_-]+"), C);
    assertNotEquals(C, Challenges.newChallenge());
    var body = new ObjectMapper().readTree(Challenges.body(C));
    assertEquals("webhook.verification", body.get("type").asText());
    assertEquals(C, body.get("challenge").asText());
    assertEquals(2, body.size());
  }

  @Test
  void theChallengeItselfOrAJsonObjectWithItPasses() {
    assertNull(Challenges.check(answer(200, C), C));
    assertNull(Challenges.check(answer(204, "  " + C + "\n"), C), "surrounding whitespace is not the receiver's fault");
    assertNull(Challenges.check(answer(200, "{\"challenge\":\"" + C + "\"}"), C));
    assertNull(Challenges.check(answer(201, "{\"ok\":true, \"challenge\": \"" + C + "\"}"), C));
  }

  @Test
  void anythingElseFailsWithTheReason() {
    for (String body : List.of("", "ok", C.substring(1), C + "x", "{\"challenge\":\"nope\"}", "{\"challenge\":42}",
        "{\"type\":\"webhook.verification\",\"data\":{\"challenge\":\"" + C + "\"}}", "[\"" + C + "\"]", "{not json")) {
      String why = Challenges.check(answer(200, body), C);
      assertTrue(why != null && why.contains("without echoing the challenge"), body + " -> " + why);
    }
    assertEquals("the endpoint answered HTTP 500, not 2xx", Challenges.check(answer(500, C), C));
    assertEquals("the endpoint answered HTTP 302, not 2xx", Challenges.check(answer(302, C), C));
    Attempt none = new Attempt(1, T0, null, 10, "timeout after 1000 ms", null);
    assertEquals("no answer: timeout after 1000 ms", Challenges.check(none, C));
  }

  @Test
  void anUpdateStartsKeepsOrDropsTheVerificationAsDocumented() {
    EndpointConfig plain = config(null);
    EndpointConfig verified = config(Verification.passed(T0));
    Instant now = T0.plusSeconds(60);

    assertEquals(Verification.started(now), EndpointEntity.verificationAfter(plain, patch(null), true, false, now));
    assertNull(EndpointEntity.verificationAfter(verified, patch(null), false, true, now));
    // Not said: a new URL is verified by the tenant's default, or because it was before.
    assertNull(EndpointEntity.verificationAfter(plain, patch("https://b.example/h"), null, false, now));
    assertEquals(Verification.started(now), EndpointEntity.verificationAfter(plain, patch("https://b.example/h"), null, true, now));
    assertEquals(Verification.started(now), EndpointEntity.verificationAfter(verified, patch("https://b.example/h"), null, false, now));
    // The same URL, or no URL, keeps it as it is.
    assertEquals(verified.verification(), EndpointEntity.verificationAfter(verified, patch("https://a.example/h"), null, true, now));
    assertEquals(verified.verification(), EndpointEntity.verificationAfter(verified, patch(null), null, true, now));
  }

  private static Attempt answer(int status, String body) {
    return new Attempt(1, T0, status, 10, status >= 200 && status < 300 ? null : "HTTP " + status, body);
  }

  private static EndpointConfig config(Verification v) {
    return new EndpointConfig("00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002",
        "https://a.example/h", null, List.of(), "whsec_x", null, null, true, 10, null, 1000, 3, Map.of(), T0, T0, 1,
        false, null, v);
  }

  private static EndpointEntity.Patch patch(String url) {
    return new EndpointEntity.Patch(url, null, false, null, null, null, null, false, null, null, null, null, false);
  }
}
