package io.zyven.app.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The body of {@code POST /v1/events}: {@code {type, payload, endpoint_id?}}. Parsed by
 * streaming so that {@code payload} keeps exactly the bytes the producer sent — they are
 * the bytes that get signed and delivered.
 */
record IngestBody(String type, String payload, String endpointId) {

  static final Pattern TYPE = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");

  private static final JsonFactory JSON =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /**
   * @throws Problems.ApiException 400 when the body is not a valid ingest request; in the
   *     order of DESIGN.md: malformed JSON first, then {@code type}, then {@code payload}
   */
  static IngestBody parse(byte[] body) {
    String type = null;
    String payload = null;
    String endpointId = null;
    String typeProblem = null;
    String payloadProblem = null;
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) throw Problems.badRequest("the body must be a JSON object");
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
            if (value == JsonToken.VALUE_NULL) break;
            if (value != JsonToken.VALUE_STRING) throw Problems.badRequest("endpoint_id must be a string");
            endpointId = p.getText();
          }
          default -> throw Problems.badRequest("unknown field '" + field + "'");
        }
      }
      if (p.nextToken() != null) throw Problems.badRequest("unexpected content after the JSON object");
    } catch (JsonProcessingException e) {
      throw Problems.badRequest("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw Problems.badRequest("unreadable body");
    }
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
