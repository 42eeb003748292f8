package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.store.TenantStore;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The body of {@code POST /v1/api-keys}, checked: 400 for anything amiss. */
record ApiKeyRequest(String name, List<String> scopes, Integer rateLimitPerSecond) {

  static final int MAX_RATE = 100_000;

  static ApiKeyRequest parse(byte[] body) {
    JsonNode root = RequestBodies.object(body, Set.of("name", "scopes", "rate_limit_per_second"));

    JsonNode name = root.get("name");
    if (name == null || !name.isTextual() || name.asText().isBlank() || name.asText().length() > 200) {
      throw Problems.badRequest("name must be a string of 1-200 characters");
    }

    String allowed = "scopes must be a non-empty array of \"ingest\", \"read\" and \"manage\"";
    JsonNode scopes = root.get("scopes");
    if (scopes == null || !scopes.isArray() || scopes.isEmpty() || scopes.size() > 3) throw Problems.badRequest(allowed);
    Set<String> given = new LinkedHashSet<>();
    for (JsonNode s : scopes) {
      if (!s.isTextual() || !TenantStore.ALL_SCOPES.contains(s.asText()) || !given.add(s.asText())) {
        throw Problems.badRequest(allowed + ", each at most once");
      }
    }

    JsonNode rate = root.get("rate_limit_per_second");
    Integer rateLimit = null;
    if (rate != null && !rate.isNull()) {
      if (!rate.isIntegralNumber() || !rate.canConvertToInt() || rate.asInt() < 1 || rate.asInt() > MAX_RATE) {
        throw Problems.badRequest("rate_limit_per_second must be an integer from 1 to " + MAX_RATE);
      }
      rateLimit = rate.asInt();
    }
    return new ApiKeyRequest(
        name.asText().trim(), TenantStore.ALL_SCOPES.stream().filter(given::contains).toList(), rateLimit);
  }
}
