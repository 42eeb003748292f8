package io.zyven.app.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zyven.app.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The read journal's eventsByTag query, on real PostgreSQL with a history of 20 000 journal
 * rows in four tags: it returns what the plugin's own query returns, and a poll near the
 * end of the journal reads the offset range, not every row of the tag.
 */
class TagRangeReadJournalDaoTest {
  private static final int HISTORY = 20_000;

  /** The query pekko-persistence-jdbc 1.1.1 generates, trimmed to the ordering column. */
  private static final String PLUGIN_QUERY =
      "SELECT x2.ordering FROM (SELECT ordering FROM event_journal WHERE deleted = false) x2, event_tag x16"
          + " WHERE x16.tag = ? AND x2.ordering > ? AND x2.ordering <= ? AND x2.ordering = x16.event_id"
          + " ORDER BY x2.ordering LIMIT ?";

  private static String url;
  private static Connection c;

  // A database of its own: other tests' projections must not read these rows.
  @BeforeAll
  static void history() throws SQLException {
    TestPostgres pg = TestPostgres.shared();
    try (Connection admin = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
        Statement st = admin.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS tag_range");
      st.execute("CREATE DATABASE tag_range");
    }
    url = pg.jdbcUrl().replaceAll("/postgres$", "/tag_range");
    try (Database db = new Database(url, "postgres", "", 2)) {
      db.migrate();
    }
    c = DriverManager.getConnection(url, "postgres", "");
    try (Statement st = c.createStatement()) {
      st.execute(
          "INSERT INTO event_journal (persistence_id, sequence_number, writer, write_timestamp,"
              + " event_ser_id, event_ser_manifest, event_payload)"
              + " SELECT 'Event|' || g, 1, 'w', 0, 1, 'm', '\\x00'::bytea FROM generate_series(1, " + HISTORY + ") g");
      st.execute("INSERT INTO event_tag (event_id, tag) SELECT ordering, 'event-' || (ordering % 4) FROM event_journal");
      st.execute("ANALYZE event_journal");
      st.execute("ANALYZE event_tag");
    }
  }

  @AfterAll
  static void close() throws SQLException {
    c.close();
  }

  @Test
  void itReturnsWhatThePluginsOwnQueryReturns() throws SQLException {
    long max = maxOrdering();
    for (long offset : List.of(0L, 1_234L, max - 150, max)) {
      for (String tag : List.of("event-0", "event-3", "no-such-tag")) {
        assertEquals(
            orderings(PLUGIN_QUERY, tag, offset, max, 100),
            orderings(TagRangeReadJournalDao.EVENTS_BY_TAG, tag, offset, max, 100),
            "tag " + tag + " from offset " + offset);
      }
    }
  }

  @Test
  void aPollNearTheEndReadsTheRangeNotTheTagsHistory() throws Exception {
    long max = maxOrdering();
    long offset = max - 400; // a projection that trails by 400 journal rows, 100 of its tag

    long pluginRows = tagRowsRead(PLUGIN_QUERY, "event-1", offset, max, 500);
    long ourRows = tagRowsRead(TagRangeReadJournalDao.EVENTS_BY_TAG, "event-1", offset, max, 500);

    System.out.printf("eventsByTag poll, 20 000 rows of history: event_tag rows read %d (plugin's query %d)%n", ourRows, pluginRows);
    // The range holds 400 tag rows in all; the tag's history is 5 000.
    assertTrue(ourRows <= 400, "event_tag rows read: " + ourRows);
    assertTrue(pluginRows >= HISTORY / 4, "the plugin's query, for comparison: " + pluginRows);
  }

  private static long maxOrdering() throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT max(ordering) FROM event_journal")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<Long> orderings(String sql, String tag, long offset, long max, long limit) throws SQLException {
    try (PreparedStatement st = bind(sql, tag, offset, max, limit); ResultSet rs = st.executeQuery()) {
      List<Long> ids = new ArrayList<>();
      while (rs.next()) ids.add(rs.getLong(1));
      return ids;
    }
  }

  /** Rows the executed plan took out of event_tag (EXPLAIN ANALYZE: rows × loops). */
  private static long tagRowsRead(String sql, String tag, long offset, long max, long limit) throws Exception {
    try (PreparedStatement st = bind("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, tag, offset, max, limit);
        ResultSet rs = st.executeQuery()) {
      rs.next();
      return tagRows(new ObjectMapper().readTree(rs.getString(1)).get(0).get("Plan"));
    }
  }

  private static long tagRows(JsonNode plan) {
    long rows = 0;
    if ("event_tag".equals(plan.path("Relation Name").asText())) {
      rows += plan.get("Actual Rows").asLong() * plan.get("Actual Loops").asLong()
          + plan.path("Rows Removed by Filter").asLong() + plan.path("Rows Removed by Index Recheck").asLong();
    }
    for (JsonNode child : plan.path("Plans")) rows += tagRows(child);
    return rows;
  }

  private static PreparedStatement bind(String sql, String tag, long offset, long max, long limit) throws SQLException {
    PreparedStatement st = c.prepareStatement(sql);
    st.setString(1, tag);
    st.setLong(2, offset);
    st.setLong(3, max);
    st.setLong(4, limit);
    return st;
  }
}
