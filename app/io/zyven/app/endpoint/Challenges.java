package io.zyven.app.endpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.json.Json;
import io.zyven.protocol.Attempt;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Endpoint verification's challenge: what Zyven sends, and whether an answer echoes it. An
 * endpoint passes by answering 2xx with a body that is the challenge itself, or a JSON
 * object whose {@code challenge} field is it.
 */
final class Challenges {
  private Challenges() {}

  /** The {@code type} of the challenge's body, and its {@code X-Event-Type}. */
  static final String TYPE = "webhook.verification";

  private static final SecureRandom RANDOM = new SecureRandom();

  /** 32 random bytes, base64url without padding: unguessable, and safe in JSON and in a plain body. */
  static String newChallenge() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The challenge's JSON body (the challenge's characters need no escaping). */
  static String body(String challenge) {
    return "{\"type\":\"" + TYPE + "\",\"challenge\":\"" + challenge + "\"}";
  }

  /**
   * Null when the answer passes; otherwise why it does not, for the tenant to read. The body
   * is what the client kept of it (at most 4 KiB: a challenge fits many times over).
   */
  static String check(Attempt answer, String challenge) {
    if (answer.statusCode() == null) {
      return "no answer: " + (answer.error() == null ? "the request failed" : answer.error());
    }
    int status = answer.statusCode();
    if (status < 200 || status > 299) return "the endpoint answered HTTP " + status + ", not 2xx";
    String body = answer.responseBody() == null ? "" : answer.responseBody().strip();
    if (same(body, challenge)) return null;
    if (body.startsWith("{")) {
      try {
        JsonNode echoed = Json.MAPPER.readTree(body).get("challenge");
        if (echoed != null && echoed.isTextual() && same(echoed.asText(), challenge)) return null;
      } catch (Exception notJson) {
        // falls through: not an echo either way
      }
    }
    return "the endpoint answered HTTP " + status + " without echoing the challenge: its body must be the"
        + " challenge, or a JSON object whose \"challenge\" field is it";
  }

  private static boolean same(String given, String challenge) {
    return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), challenge.getBytes(StandardCharsets.UTF_8));
  }
}
