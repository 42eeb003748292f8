package io.zyven.app.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.zyven.app.ingest.EventTypeCatalogue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The body of {@code POST /v1/events}: {@code {type, payload, endpoint_id?}}. Parsed by
 * streaming so that {@code payload} keeps exactly the bytes the producer sent — they are
 * the bytes that get signed and delivered.
 */
record IngestBody(String type, String payload, String endpointId) {

  // One grammar for what producers send and what the catalogue names.
  static final Pattern TYPE = EventTypeCatalogue.NAME;

  private static final List<String> FIELDS = List.of("type", "payload", "endpoint_id");

  /**
   * @throws Problems.ApiException 400 when the body is not a valid ingest request; in the
   *     documented order: malformed JSON first (the whole body is read before any field
   *     is judged), then an unknown field or endpoint_id, then {@code type}, then
   *     {@code payload}
   */
  static IngestBody parse(byte[] body) {
    String type = null;
    String payload = null;
    String endpointId = null;
    String fieldProblem = null;
    String typeProblem = null;
    String payloadProblem = null;
    try (JsonParser p = RequestBodies.STRICT_JSON.createParser(body)) {
      JsonToken first = p.nextToken();
      if (first == null) throw Problems.malformedJson(RequestBodies.EMPTY);
      if (first != JsonToken.START_OBJECT) {
        p.skipChildren();
        RequestBodies.requireEnd(p);
        throw Problems.badRequest("the body must be a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        switch (field) {
          case "type" -> {
            if (value == JsonToken.VALUE_STRING) type = p.getText();
            else typeProblem = "type must be a string";
            p.skipChildren();
          }
          case "payload" -> {
            if (value != JsonToken.START_OBJECT) {
              payloadProblem = "payload must be a JSON object";
              p.skipChildren();
              break;
            }
            int start = (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
            int end = (int) p.currentTokenLocation().getByteOffset() + 1;
            payload = new String(body, start, end - start, StandardCharsets.UTF_8);
          }
          case "endpoint_id" -> {
            if (value == JsonToken.VALUE_STRING) endpointId = p.getText();
            else if (value != JsonToken.VALUE_NULL && fieldProblem == null) fieldProblem = "endpoint_id must be a string";
            p.skipChildren();
          }
          default -> {
            if (fieldProblem == null) fieldProblem = RequestBodies.unknownField(field, FIELDS);
            p.skipChildren();
          }
        }
      }
      RequestBodies.requireEnd(p);
    } catch (JsonProcessingException e) {
      throw Problems.malformedJson(JsonErrors.describe(e));
    } catch (IOException e) {
      throw Problems.badRequest("the body could not be read");
    }
    if (fieldProblem != null) throw Problems.badRequest(fieldProblem);
    if (typeProblem != null) throw Problems.badRequest(typeProblem);
    if (type == null) throw Problems.badRequest("type is required");
    if (!TYPE.matcher(type).matches()) {
      throw Problems.badRequest("type must match [A-Za-z0-9_.:-]{1,128}");
    }
    if (payloadProblem != null) throw Problems.badRequest(payloadProblem);
    if (payload == null) throw Problems.badRequest("payload is required");
    return new IngestBody(type, payload, endpointId);
  }
}
