package io.zyven.app.http;

import io.zyven.app.readmodel.EventPage;
import io.zyven.app.readmodel.ReadModelQueries.Cursor;
import io.zyven.protocol.DeliveryStatus;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The query of {@code GET /v1/events?status=&type=&endpoint_id=&since=&until=&limit=&cursor=}.
 * Unknown parameters are refused, so a misspelt filter cannot silently list everything.
 */
record ListRequest(EventPage.Filter filter, int limit, Cursor cursor) {
  static final int DEFAULT_LIMIT = 20;
  static final int MAX_LIMIT = 100;
  static final int MAX_CURSOR = 200;
  private static final List<String> PARAMS = List.of("status", "type", "endpoint_id", "since", "until", "limit", "cursor");

  static ListRequest parse(Map<String, String> query) {
    QueryParameters.requireKnown(query, PARAMS);
    DeliveryStatus status = query.containsKey("status") ? status(query.get("status")) : null;
    String type = query.get("type");
    if (type != null && !IngestBody.TYPE.matcher(type).matches()) {
      throw Problems.badRequest("type must match [A-Za-z0-9_.:-]{1,128}");
    }
    String endpointId = query.containsKey("endpoint_id") ? Ids.field(query.get("endpoint_id"), "endpoint_id") : null;
    Instant since = time(query, "since");
    Instant until = time(query, "until");
    if (since != null && until != null && !since.isBefore(until)) throw Problems.badRequest("since must be before until");
    int limit = QueryParameters.limit(query);
    Cursor cursor = null;
    if (query.containsKey("cursor")) {
      try {
        // A cursor this API gives out is about 90 characters; a longer one was not. Nor
        // was one that does not encode back to itself (a forged variant of a real one).
        String text = query.get("cursor");
        cursor = text.length() > MAX_CURSOR ? null : Cursor.decode(text);
        if (cursor != null && !cursor.encode().equals(text)) cursor = null;
      } catch (RuntimeException e) {
        cursor = null;
      }
      if (cursor == null || !RequestBodies.inRange(cursor.createdAt())) {
        throw Problems.badRequest("cursor is not one this API gave out");
      }
    }
    return new ListRequest(new EventPage.Filter(status, type, endpointId, since, until), limit, cursor);
  }

  /** Any case, as people type it: {@code delivered} is {@code DELIVERED}. */
  private static DeliveryStatus status(String value) {
    for (DeliveryStatus s : DeliveryStatus.values()) {
      if (s.name().equalsIgnoreCase(value)) return s;
    }
    throw Problems.badRequest("status must be one of "
        + Arrays.stream(DeliveryStatus.values()).map(Enum::name).collect(Collectors.joining(", "))
        + " (in any case), got " + Problems.quote(value));
  }

  private static Instant time(Map<String, String> query, String name) {
    return query.containsKey(name) ? RequestBodies.timestamp(query.get(name), name) : null;
  }
}
