package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.endpoint.EndpointEntity.Patch;
import io.zyven.app.endpoint.EventTypeFilter;
import io.zyven.app.transform.HeaderRules;
import io.zyven.app.transform.Transformations;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The body of {@code POST} and {@code PATCH /v1/endpoints}, checked field by field so a
 * bad request says exactly what is wrong. Unknown fields are refused: a typo such as
 * {@code event_type} must not silently subscribe an endpoint to everything. {@code verify}
 * (null: not given) asks for, or declines, the URL's challenge-response verification.
 */
record EndpointRequest(Patch patch, String secret, Boolean verify) {

  private static final Set<String> FIELDS =
      Set.of("url", "description", "event_types", "secret", "enabled", "max_in_flight",
          "rate_limit_per_second", "timeout_ms", "max_attempts", "headers", "transformation", "verify");
  private static final SecureRandom RANDOM = new SecureRandom();
  // Bounded so that an attempt always ends well within an event entity's idle passivation.
  static final int MAX_TIMEOUT_MS = 120_000;

  static EndpointRequest parse(byte[] body, boolean create) {
    JsonNode root = RequestBodies.object(body, FIELDS);
    if (create && !root.hasNonNull("url")) throw Problems.badRequest("url is required");
    if (!create && root.has("secret")) {
      throw Problems.badRequest("secret cannot be patched; use POST /v1/endpoints/{id}/rotate-secret");
    }
    JsonNode rate = root.get("rate_limit_per_second");
    JsonNode description = root.get("description");
    Patch patch =
        new Patch(
            url(root.get("url")),
            text(description, "description", 1000),
            description != null && description.isNull(),
            eventTypes(root.get("event_types")),
            bool(root.get("enabled"), "enabled"),
            integer(root.get("max_in_flight"), "max_in_flight", 1, 1000),
            integer(rate, "rate_limit_per_second", 1, 100_000),
            rate != null && rate.isNull(),
            integer(root.get("timeout_ms"), "timeout_ms", 1, MAX_TIMEOUT_MS),
            integer(root.get("max_attempts"), "max_attempts", 1, 100),
            headers(root.get("headers")),
            // Only its size here; whether it compiles is checked in the sandbox before saving.
            text(root.get("transformation"), "transformation", Transformations.MAX_SOURCE_CHARS),
            root.has("transformation") && root.get("transformation").isNull());
    return new EndpointRequest(patch, secret(root.get("secret")), bool(root.get("verify"), "verify"));
  }

  /** {@code whsec_} + base64 of 32 random bytes. */
  static String newSecret() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return "whsec_" + Base64.getEncoder().encodeToString(key);
  }

  private static String url(JsonNode node) {
    if (node == null) return null;
    if (!node.isTextual() || node.asText().length() > 2048) {
      throw Problems.badRequest("url must be a string of at most 2048 characters");
    }
    try {
      URI uri = new URI(node.asText());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw Problems.badRequest("url must be http or https");
      }
      if (uri.getHost() == null) throw Problems.badRequest("url must have a host");
      if (uri.getPort() > 65535) throw Problems.badRequest("url has an invalid port");
      return uri.toString();
    } catch (URISyntaxException e) {
      throw Problems.badRequest("url is not a valid URL: " + e.getReason());
    }
  }

  private static String text(JsonNode node, String field, int maxLength) {
    if (node == null || node.isNull()) return null;
    if (!node.isTextual() || node.asText().length() > maxLength) {
      throw Problems.badRequest(field + " must be a string of at most " + maxLength + " characters");
    }
    return node.asText();
  }

  private static Boolean bool(JsonNode node, String field) {
    if (node == null) return null;
    if (!node.isBoolean()) throw Problems.badRequest(field + " must be true or false");
    return node.asBoolean();
  }

  private static Integer integer(JsonNode node, String field, int min, int max) {
    if (node == null || node.isNull()) return null;
    if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < min || node.asInt() > max) {
      throw Problems.badRequest(field + " must be an integer from " + min + " to " + max);
    }
    return node.asInt();
  }

  private static List<String> eventTypes(JsonNode node) {
    if (node == null || node.isNull()) return null;
    if (!node.isArray() || node.size() > 100) {
      throw Problems.badRequest("event_types must be an array of at most 100 entries");
    }
    List<String> types = new ArrayList<>();
    for (JsonNode t : node) {
      if (!t.isTextual() || !EventTypeFilter.ENTRY.matcher(t.asText()).matches()) {
        throw Problems.badRequest("each event_types entry must match [A-Za-z0-9_.:*-]{1,128}");
      }
      types.add(t.asText());
    }
    return types;
  }

  private static Map<String, String> headers(JsonNode node) {
    if (node == null || node.isNull()) return null;
    if (!node.isObject() || node.size() > 20) {
      throw Problems.badRequest("headers must be an object of at most 20 string values");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> h = it.next();
      String value = h.getValue().isTextual() ? h.getValue().asText() : null;
      String problem = HeaderRules.problem(h.getKey(), value, headers.keySet());
      if (problem != null) throw Problems.badRequest(problem);
      headers.put(h.getKey(), value);
    }
    return headers;
  }

  /** {@code whsec_} + base64 of 24 to 64 bytes (the HMAC key). */
  private static String secret(JsonNode node) {
    if (node == null || node.isNull()) return null;
    String s = node.isTextual() ? node.asText() : "";
    if (s.startsWith("whsec_")) {
      try {
        int length = Base64.getDecoder().decode(s.substring(6)).length;
        if (length >= 24 && length <= 64) return s;
      } catch (IllegalArgumentException e) {
        // falls through to the error below
      }
    }
    throw Problems.badRequest("secret must be whsec_ followed by base64 of 24 to 64 bytes");
  }
}
