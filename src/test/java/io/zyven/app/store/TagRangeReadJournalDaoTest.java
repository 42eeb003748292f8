package io.zyven.app.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.zyven.app.event.EventEntity;
import io.zyven.app.testing.TestPostgres;
import io.zyven.protocol.EventJournal;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.jdbc.PekkoSerialization;
import org.apache.pekko.persistence.jdbc.config.ReadJournalConfig;
import org.apache.pekko.persistence.jdbc.query.dao.DefaultReadJournalDao;
import org.apache.pekko.persistence.jdbc.query.dao.ReadJournalDao;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.scaladsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import scala.Option;
import scala.Tuple3;
import scala.util.Try;
import slick.jdbc.JdbcBackend;
import slick.jdbc.JdbcBackend$;
import slick.jdbc.PostgresProfile$;
import slick.util.AsyncExecutor$;

/**
 * The read journal's eventsByTag, on real PostgreSQL with a history of 20 000 journal rows
 * in four tags, each row a real serialized event: our DAO returns what the plugin's own DAO
 * ({@link DefaultReadJournalDao} of pekko-persistence-jdbc) returns, row for row, event for
 * event, offset for offset; the rows it returns deserialize to the events that were written;
 * and a poll near the end of the journal reads the offset range, where the plugin's query,
 * as its DAO sends it, reads every row of the tag.
 */
class TagRangeReadJournalDaoTest {
  private static final int HISTORY = 20_000;
  private static final long WRITTEN_AT = 1_700_000_000_000L;

  private static String url;
  private static Connection c;
  private static ActorSystem system;
  private static Serialization serialization;
  private static Materializer mat;
  private static JdbcBackend.JdbcDatabaseDef db;
  private static final List<Prepared> prepared = new CopyOnWriteArrayList<>();
  private static ReadJournalDao plugin;
  private static ReadJournalDao ours;

  // A database of its own: other tests' projections must not read these rows.
  @BeforeAll
  static void history() throws Exception {
    TestPostgres pg = TestPostgres.shared();
    try (Connection admin = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
        Statement st = admin.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS tag_range");
      st.execute("CREATE DATABASE tag_range");
    }
    url = pg.jdbcUrl().replaceAll("/postgres$", "/tag_range");
    try (Database migrations = new Database(url, "postgres", "", 2)) {
      migrations.migrate();
    }
    // The node's serialization (its bindings: jackson-cbor for the journal's events), in a
    // local actor system.
    system = ActorSystem.create("tag-range", ConfigFactory.parseString("pekko.actor.provider = local")
        .withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(system);
    mat = Materializer.matFromSystem(system);
    c = DriverManager.getConnection(url + "?reWriteBatchedInserts=true", "postgres", "");
    writeHistory();
    try (Statement st = c.createStatement()) {
      st.execute("INSERT INTO event_tag (event_id, tag) SELECT ordering, 'event-' || (ordering % 4) FROM event_journal");
      st.execute("ANALYZE event_journal");
      st.execute("ANALYZE event_tag");
    }

    // Both DAOs on one Slick database, whose connections record the SQL they prepare.
    db = JdbcBackend$.MODULE$.Database().forDataSource(
        recording(url), Option.apply((Object) 4), AsyncExecutor$.MODULE$.apply("tag-range", 4, 4, 100, 4), false);
    ReadJournalConfig config = new ReadJournalConfig(system.settings().config().getConfig("jdbc-read-journal"));
    plugin = new DefaultReadJournalDao(db, PostgresProfile$.MODULE$, config, serialization, system.dispatcher(), mat);
    ours = new TagRangeReadJournalDao(db, PostgresProfile$.MODULE$, config, serialization, system.dispatcher(), mat);
  }

  @AfterAll
  static void close() throws Exception {
    if (db != null) db.close();
    if (system != null) system.terminate();
    if (c != null) c.close();
  }

  // ---- the journal ----

  /**
   * Row {@code n} (its ordering): a Received or a DispatchStarted of an event, three rows to
   * an event as in a real journal (its rows fall in different tags here); every 7th with metadata, every 11th with an adapter
   * manifest, every 97th deleted.
   */
  private static Object payloadOf(long n) {
    Instant at = Instant.ofEpochMilli(WRITTEN_AT + n);
    if (sequenceNrOf(n) == 1) {
      return new EventJournal.Received("e-" + n / 3, "tenant-" + n % 5, "order.paid", "{\"n\":" + n + "}",
          "key-" + n, "hash-" + n, "request-" + n, List.of("endpoint-" + n % 3), at);
    }
    return new EventJournal.DispatchStarted("endpoint-" + n % 3, (int) sequenceNrOf(n), "row " + n, at);
  }

  private static String persistenceIdOf(long n) {
    return "Event|e-" + n / 3;
  }

  private static long sequenceNrOf(long n) {
    return n % 3 + 1;
  }

  private static Object metadataOf(long n) {
    return n % 7 == 0 ? new EventEntity.DeliveriesStarted(List.of("meta-" + n)) : null;
  }

  private static String adapterManifestOf(long n) {
    return n % 11 == 0 ? "v" + n % 3 : "";
  }

  private static boolean deleted(long n) {
    return n % 97 == 0;
  }

  private static void writeHistory() throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO event_journal (ordering, persistence_id, sequence_number, deleted, writer, write_timestamp,"
            + " adapter_manifest, event_ser_id, event_ser_manifest, event_payload, meta_ser_id, meta_ser_manifest, meta_payload)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (long n = 1; n <= HISTORY; n++) {
        PekkoSerialization.PekkoSerialized event = PekkoSerialization.serialize(serialization, payloadOf(n)).get();
        st.setLong(1, n);
        st.setString(2, persistenceIdOf(n));
        st.setLong(3, sequenceNrOf(n));
        st.setBoolean(4, deleted(n));
        st.setString(5, "writer-" + n % 3);
        st.setLong(6, WRITTEN_AT + n);
        st.setString(7, adapterManifestOf(n));
        st.setInt(8, event.serId());
        st.setString(9, event.serManifest());
        st.setBytes(10, event.payload());
        Object metadata = metadataOf(n);
        if (metadata == null) {
          st.setNull(11, java.sql.Types.INTEGER);
          st.setNull(12, java.sql.Types.VARCHAR);
          st.setNull(13, java.sql.Types.BINARY);
        } else {
          PekkoSerialization.PekkoSerialized meta = PekkoSerialization.serialize(serialization, metadata).get();
          st.setInt(11, meta.serId());
          st.setString(12, meta.serManifest());
          st.setBytes(13, meta.payload());
        }
        st.addBatch();
        if (n % 1000 == 0) st.executeBatch();
      }
      st.executeBatch();
    }
  }

  // ---- what the DAOs return ----

  /** One element of eventsByTag, everything it carries, comparable. */
  private record Element(
      long ordering, String persistenceId, long sequenceNr, Object payload, String manifest, boolean deleted,
      String writer, long timestamp, Object metadata, List<String> tags) {}

  private static List<Element> eventsByTag(ReadJournalDao dao, String tag, long offset, long maxOffset, long max)
      throws Exception {
    Source<Try<Tuple3<PersistentRepr, scala.collection.immutable.Set<String>, Object>>, NotUsed> source =
        dao.eventsByTag(tag, offset, maxOffset, max);
    List<Try<Tuple3<PersistentRepr, scala.collection.immutable.Set<String>, Object>>> tries =
        source.asJava().runWith(Sink.seq(), mat).toCompletableFuture().get(30, TimeUnit.SECONDS);
    List<Element> elements = new ArrayList<>();
    for (Try<Tuple3<PersistentRepr, scala.collection.immutable.Set<String>, Object>> t : tries) {
      if (t.isFailure()) fail("an element failed to deserialize: " + t.failed().get());
      PersistentRepr repr = t.get()._1();
      List<String> tags = new ArrayList<>(scala.jdk.javaapi.CollectionConverters.asJava(t.get()._2()));
      elements.add(new Element(
          (Long) t.get()._3(), repr.persistenceId(), repr.sequenceNr(), repr.payload(), repr.manifest(), repr.deleted(),
          repr.writerUuid(), repr.timestamp(), repr.metadata().isDefined() ? repr.metadata().get() : null, tags));
    }
    return elements;
  }

  @Test
  void itReturnsWhatThePluginsOwnDaoReturns() throws Exception {
    long max = maxOrdering();
    long[][] ranges = {{0, max}, {1_234, max}, {max - 150, max}, {max, max}, {5_000, 5_040}};
    for (long[] range : ranges) {
      for (String tag : List.of("event-0", "event-3", "no-such-tag")) {
        String what = "tag " + tag + ", offsets (" + range[0] + ", " + range[1] + "]";
        List<Element> theirs = eventsByTag(plugin, tag, range[0], range[1], 100);
        List<Element> mine = eventsByTag(ours, tag, range[0], range[1], 100);
        assertEquals(theirs, mine, what);
        if (tag.equals("no-such-tag") || range[0] == range[1]) assertTrue(mine.isEmpty(), what);
        else assertFalse(mine.isEmpty(), what);
      }
    }
  }

  @Test
  void theRowsItReturnsDeserializeToTheEventsThatWereWritten() throws Exception {
    // The first 400 rows of tag event-3: row 291 (deleted) is among them and must not be.
    List<Element> elements = eventsByTag(ours, "event-3", 0, maxOrdering(), 100);
    List<Long> orderings = elements.stream().map(Element::ordering).toList();
    List<Long> expected = new ArrayList<>();
    for (long n = 3; expected.size() < 100; n += 4) if (!deleted(n)) expected.add(n);
    assertEquals(expected, orderings, "the tag's live rows, in order, the deleted ones left out");
    assertFalse(orderings.contains(291L));

    int withMetadata = 0;
    int withAdapterManifest = 0;
    for (Element e : elements) {
      long n = e.ordering();
      assertEquals(new Element(n, persistenceIdOf(n), sequenceNrOf(n), payloadOf(n), adapterManifestOf(n), false,
          "writer-" + n % 3, WRITTEN_AT + n, metadataOf(n), List.of()), e, "row " + n);
      if (e.metadata() != null) withMetadata++;
      if (!e.manifest().isEmpty()) withAdapterManifest++;
    }
    // Both kinds of events, and rows with and without metadata and adapter manifest.
    assertTrue(elements.stream().anyMatch(e -> e.payload() instanceof EventJournal.Received));
    assertTrue(elements.stream().anyMatch(e -> e.payload() instanceof EventJournal.DispatchStarted));
    assertTrue(withMetadata > 0 && withMetadata < elements.size(), "rows with metadata: " + withMetadata);
    assertTrue(withAdapterManifest > 0 && withAdapterManifest < elements.size(), "adapter manifests: " + withAdapterManifest);
  }

  @Test
  void aPollNearTheEndReadsTheRangeNotTheTagsHistory() throws Exception {
    long max = maxOrdering();
    long offset = max - 400; // a projection that trails by 400 journal rows, 100 of its tag

    // The plugin's query as its DAO sends it: SQL and parameters recorded on the connection.
    prepared.clear();
    List<Element> theirs = eventsByTag(plugin, "event-1", offset, max, 500);
    Prepared pluginQuery = prepared.stream().filter(p -> p.sql().contains("event_tag")).reduce((a, b) -> b)
        .orElseThrow(() -> new AssertionError("the plugin's DAO prepared no query on event_tag: " + prepared));
    assertEquals(theirs, eventsByTag(ours, "event-1", offset, max, 500));

    long pluginRows = tagRowsRead(pluginQuery);
    long ourRows = tagRowsRead(new Prepared(TagRangeReadJournalDao.EVENTS_BY_TAG, Map.of(1, "event-1", 2, offset, 3, max, 4, 500L)));

    System.out.printf("the plugin's eventsByTag query: %s %s%n", pluginQuery.sql(), pluginQuery.parameters());
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

  /** Rows the executed plan took out of event_tag (EXPLAIN ANALYZE: rows × loops). */
  private static long tagRowsRead(Prepared query) throws Exception {
    try (PreparedStatement st = c.prepareStatement("EXPLAIN (ANALYZE, FORMAT JSON) " + query.sql())) {
      for (Map.Entry<Integer, Object> p : query.parameters().entrySet()) st.setObject(p.getKey(), p.getValue());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return tagRows(new ObjectMapper().readTree(rs.getString(1)).get(0).get("Plan"));
      }
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

  // ---- recording what the DAOs send ----

  /** A statement as prepared on a connection, with the parameters set on it. */
  private record Prepared(String sql, Map<Integer, Object> parameters) {}

  /** PostgreSQL connections that record each statement prepared on them, and its parameters. */
  private static DataSource recording(String url) {
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setURL(url);
    pg.setUser("postgres");
    pg.setPassword("");
    return proxy(DataSource.class, (self, method, args) -> {
      Object result = invoke(pg, method, args);
      return method.getName().equals("getConnection") ? recordingConnection((Connection) result) : result;
    });
  }

  private static Connection recordingConnection(Connection connection) {
    return proxy(Connection.class, (self, method, args) -> {
      Object result = invoke(connection, method, args);
      if (method.getName().equals("prepareStatement") && args != null && args[0] instanceof String sql) {
        Prepared p = new Prepared(sql, new TreeMap<>());
        prepared.add(p);
        PreparedStatement statement = (PreparedStatement) result;
        return proxy(PreparedStatement.class, (s, m, a) -> {
          if (m.getName().startsWith("set") && a != null && a.length == 2 && a[0] instanceof Integer i) {
            p.parameters().put(i, a[1]);
          }
          return invoke(statement, m, a);
        });
      }
      return result;
    });
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<T> type, InvocationHandler handler) {
    return (T) Proxy.newProxyInstance(TagRangeReadJournalDaoTest.class.getClassLoader(), new Class<?>[] {type}, handler);
  }

  private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
