package io.zyven.app.http;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/** The OpenAPI document a node serves, and what a real response breaks of it. */
final class OpenApiSpec {
  /** The methods an OpenAPI path item may have, as its keys. */
  static final List<String> METHODS = List.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  // OpenAPI 3.1 schemas are JSON Schema 2020-12. Formats (uuid, date-time) are checked too.
  private static final SchemaRegistry SCHEMAS =
      SchemaRegistry.withDefaultDialect(
          SpecificationVersion.DRAFT_2020_12,
          b -> b.schemaRegistryConfig(SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));

  final String json;
  final JsonNode doc;

  private OpenApiSpec(String json) {
    this.json = json;
    this.doc = parse(json);
  }

  static OpenApiSpec fetch(ApiClient api) {
    Response r = api.get("/openapi.json", null);
    if (r.status() != 200) throw new IllegalStateException("no spec: " + r);
    return new OpenApiSpec(r.body());
  }

  /** Every operation, as "METHOD /path/{template}", in the document's order. */
  List<String> operations() {
    List<String> ops = new ArrayList<>();
    doc.get("paths").properties().forEach(path -> {
      for (String method : METHODS) {
        if (path.getValue().has(method)) ops.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey());
      }
    });
    return ops;
  }

  /** {@code "GET /v1/events"}'s operation object. */
  JsonNode operation(String operation) {
    String[] parts = operation.split(" ", 2);
    JsonNode op = doc.path("paths").path(parts[1]).path(parts[0].toLowerCase(Locale.ROOT));
    if (op.isMissingNode()) throw new IllegalArgumentException("not in the spec: " + operation);
    return op;
  }

  /**
   * How this real response to {@code operation} differs from what the spec says of its
   * status: an undocumented status, a missing required header, another media type, or a
   * body its schema refuses. Empty when it conforms.
   */
  List<String> violations(String operation, Response r) {
    List<String> found = new ArrayList<>();
    JsonNode declared = resolve(operation(operation).path("responses").get(Integer.toString(r.status())));
    if (declared == null) {
      found.add(r.status() + " is not a documented status of " + operation);
      return found;
    }
    declared.path("headers").properties().forEach(h -> {
      if (resolve(h.getValue()).path("required").asBoolean() && r.header(h.getKey()).isEmpty()) {
        found.add("missing header " + h.getKey());
      }
    });
    JsonNode content = declared.get("content");
    if (content == null) {
      if (!r.body().isEmpty()) found.add("a body where the spec has none: " + r.body());
      return found;
    }
    String mediaType = r.contentType().split(";")[0].trim();
    JsonNode media = content.get(mediaType);
    if (media == null) {
      found.add("media type " + mediaType + " is not one of " + fieldNames(content));
    } else if (mediaType.endsWith("json")) {
      for (Error e : schema(media.get("schema")).validate(r.body(), InputFormat.JSON)) found.add(e.toString());
    }
    return found;
  }

  /**
   * A schema of the document as a standalone JSON Schema: the document's components go with
   * it, so that its {@code $ref}s to {@code #/components/schemas/...} resolve.
   */
  Schema schema(JsonNode schema) {
    ObjectNode bundle = ApiClient.JSON.createObjectNode();
    bundle.put("$schema", "https://json-schema.org/draft/2020-12/schema");
    bundle.set("components", doc.get("components"));
    bundle.putArray("allOf").add(schema);
    return SCHEMAS.getSchema(bundle.toString(), InputFormat.JSON);
  }

  /** A node, or what its {@code $ref} (within this document) points to. */
  JsonNode resolve(JsonNode node) {
    while (node != null && node.has("$ref")) {
      String ref = node.get("$ref").asText();
      if (!ref.startsWith("#/")) throw new IllegalArgumentException("not a local $ref: " + ref);
      node = doc.at(JsonPointer.compile(ref.substring(1)));
      if (node.isMissingNode()) throw new IllegalArgumentException("dangling $ref: " + ref);
    }
    return node;
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) names.add(it.next());
    return names;
  }

  private static JsonNode parse(String json) {
    try {
      return ApiClient.JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalStateException("the spec is not JSON", e);
    }
  }
}
