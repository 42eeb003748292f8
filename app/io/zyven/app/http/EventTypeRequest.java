package io.zyven.app.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.ingest.EventTypeCatalogue;
import io.zyven.app.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The bodies and queries of {@code /v1/event-types}: shapes only (400). Whether a schema is a
 * valid schema and an example matches it is the catalogue's to say (422).
 */
final class EventTypeRequest {
  private EventTypeRequest() {}

  static final int MAX_DESCRIPTION = 1000;
  private static final Set<String> CREATE = Set.of("name", "description", "schema", "example", "archived");
  private static final Set<String> PATCH = Set.of("description", "schema", "example", "archived");

  record Create(String name, EventTypeCatalogue.Draft draft) {}

  static Create create(byte[] body) {
    JsonNode root = RequestBodies.object(body, CREATE);
    JsonNode name = root.get("name");
    if (name == null || !name.isTextual()) throw Problems.badRequest("name is required, a string");
    return new Create(name(name.asText()), draft(root));
  }

  static EventTypeCatalogue.Draft patch(byte[] body) {
    return draft(RequestBodies.object(body, PATCH));
  }

  /** A type's name, from the body or the path: the ingest {@code type} grammar, so no wildcard. */
  static String name(String name) {
    if (!EventTypeCatalogue.NAME.matcher(name).matches()) {
      throw Problems.badRequest(
          "an event type's name must be 1-128 characters of A-Z a-z 0-9 _ . : - (no wildcard), got " + Problems.quote(name));
    }
    return name;
  }

  /**
   * The fields given; null for a field left out. {@code schema} and {@code example} given as
   * null clear them (an empty Optional).
   */
  private static EventTypeCatalogue.Draft draft(JsonNode root) {
    String description = null;
    JsonNode d = root.get("description");
    if (d != null && !d.isNull()) {
      if (!d.isTextual() || d.asText().length() > MAX_DESCRIPTION) {
        throw Problems.badRequest("description must be a string of at most " + MAX_DESCRIPTION + " characters");
      }
      description = d.asText();
    } else if (d != null) {
      description = "";
    }
    Optional<String> schema = json(root, "schema", true);
    Optional<String> example = json(root, "example", false);
    Boolean archived = null;
    JsonNode a = root.get("archived");
    if (a != null) {
      if (!a.isBoolean()) throw Problems.badRequest("archived must be true or false");
      archived = a.asBoolean();
    }
    return new EventTypeCatalogue.Draft(description, schema, example, archived);
  }

  /** A JSON field kept as text; null when absent, empty when null. A schema may be an object or a boolean. */
  private static Optional<String> json(JsonNode root, String field, boolean booleanAllowed) {
    JsonNode v = root.get(field);
    if (v == null) return null;
    if (v.isNull()) return Optional.empty();
    if (!v.isObject() && !(booleanAllowed && v.isBoolean())) {
      throw Problems.badRequest(field + " must be a JSON object" + (booleanAllowed ? " (or true/false)" : "") + ", or null");
    }
    try {
      return Optional.of(Json.MAPPER.writeValueAsString(v));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  record ListQuery(boolean includeArchived, int limit, String afterName) {}

  private static final List<String> PARAMS = List.of("include_archived", "limit", "cursor");

  static ListQuery list(Map<String, String> query) {
    QueryParameters.requireKnown(query, PARAMS);
    boolean includeArchived = true;
    String ia = query.get("include_archived");
    if (ia != null) {
      if (!ia.equals("true") && !ia.equals("false")) throw Problems.badRequest("include_archived must be true or false");
      includeArchived = ia.equals("true");
    }
    String after = null;
    if (query.containsKey("cursor")) {
      try {
        after = new String(Base64.getUrlDecoder().decode(query.get("cursor")), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        after = "";
      }
      if (!EventTypeCatalogue.NAME.matcher(after).matches()) throw Problems.badRequest("cursor is not one this API gave out");
    }
    return new ListQuery(includeArchived, QueryParameters.limit(query), after);
  }

  static String cursor(String lastName) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(lastName.getBytes(StandardCharsets.UTF_8));
  }
}
