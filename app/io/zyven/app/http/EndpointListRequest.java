package io.zyven.app.http;

import io.zyven.app.readmodel.ReadModelQueries.Cursor;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The query of {@code GET /v1/endpoints?limit=&cursor=}: the same {@code limit} (1–100,
 * default 20) and opaque cursor as {@code GET /v1/events}. Unknown parameters are refused.
 */
record EndpointListRequest(int limit, Cursor cursor) {
  private static final List<String> PARAMS = List.of("limit", "cursor");
  private static final Instant OLDEST = Instant.parse("1970-01-01T00:00:00Z");
  private static final Instant NEWEST = Instant.parse("9999-12-31T23:59:59Z");

  static EndpointListRequest parse(Map<String, String> query) {
    QueryParameters.requireKnown(query, PARAMS);
    int limit = QueryParameters.limit(query);
    Cursor cursor = null;
    if (query.containsKey("cursor")) {
      try {
        cursor = Cursor.decode(query.get("cursor"));
        // Cursors hold an endpoint's creation time: anything else is forged, and out of
        // PostgreSQL's range it would fail in the query.
        if (cursor.createdAt().isBefore(OLDEST) || cursor.createdAt().isAfter(NEWEST)) throw new IllegalArgumentException();
      } catch (RuntimeException e) {
        throw Problems.badRequest("cursor is not one this API gave out");
      }
    }
    return new EndpointListRequest(limit, cursor);
  }
}
