package io.zyven.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ceiling (a), the naive "one insert per request" design: N JDBC threads, each with its own
 * connection in autocommit, each committing one ~700-byte row at a time into a scratch
 * table shaped like the journal (primary key on (persistence_id, sequence_number)), in the
 * same database Zyven uses. Prepared statements, so this is the best case of that design.
 *
 * <p>Usage: {@code InsertCeiling <jdbc-url> <user> <password> <threads> <warmup-s> <measure-s>
 * <payload-bytes> [synchronous_commit]}. The optional last argument sets
 * {@code synchronous_commit} in every session (e.g. {@code on}); without it the database's
 * own setting applies, as for Zyven. Prints {@code key=value} lines, and MEASURE_START and
 * MEASURE_END when the measured interval begins and ends (the connections stay open two
 * seconds after the end, so that run.sh can account the CPU of their backends).
 */
public final class InsertCeiling {
  private static final String TABLE = "bench_insert_ceiling";

  public static void main(String[] args) throws Exception {
    String url = args[0];
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    props.setProperty("password", args[2]);
    int threads = Integer.parseInt(args[3]);
    long warmupMs = Long.parseLong(args[4]) * 1000;
    long measureMs = Long.parseLong(args[5]) * 1000;
    int payloadBytes = Integer.parseInt(args[6]);
    String syncCommit = args.length > 7 ? args[7] : null;

    try (Connection c = DriverManager.getConnection(url, props); Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS " + TABLE);
      st.execute(
          "CREATE TABLE " + TABLE + " (persistence_id VARCHAR(255) NOT NULL, sequence_number BIGINT NOT NULL,"
              + " write_timestamp BIGINT NOT NULL, payload BYTEA NOT NULL,"
              + " PRIMARY KEY (persistence_id, sequence_number))");
      for (String setting : List.of("server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")) {
        try (ResultSet rs = st.executeQuery("SHOW " + setting)) {
          rs.next();
          System.out.println("db_" + setting + "=" + rs.getString(1));
        }
      }
    }

    AtomicLong errors = new AtomicLong();
    long start = System.nanoTime();
    long measureFrom = start + warmupMs * 1_000_000;
    long measureTo = measureFrom + measureMs * 1_000_000;
    List<long[]> latencies = new ArrayList<>();
    int[] counts = new int[threads];
    CountDownLatch done = new CountDownLatch(threads);
    // The connections stay open until the figures are out, so that an observer of the
    // processes (run.sh's CPU accounting) still sees the PostgreSQL backends.
    CountDownLatch release = new CountDownLatch(1);
    for (int t = 0; t < threads; t++) {
      final int id = t;
      long[] lat = new long[4_000_000 / threads];
      latencies.add(lat);
      Thread th =
          new Thread(
              () -> {
                try (Connection c = DriverManager.getConnection(url, props)) {
                  c.setAutoCommit(true);
                  if (syncCommit != null) {
                    try (Statement st = c.createStatement()) {
                      st.execute("SET synchronous_commit = " + syncCommit);
                    }
                  }
                  byte[] payload = new byte[payloadBytes];
                  ThreadLocalRandom.current().nextBytes(payload);
                  try (PreparedStatement ps =
                      c.prepareStatement(
                          "INSERT INTO " + TABLE
                              + " (persistence_id, sequence_number, write_timestamp, payload) VALUES (?, ?, ?, ?)")) {
                    long seq = 0;
                    String pid = "Ceiling|" + id + "-" + System.nanoTime();
                    int n = 0;
                    while (true) {
                      long t0 = System.nanoTime();
                      if (t0 >= measureTo) break;
                      payload[(int) (seq % payloadBytes)] ^= 1;
                      ps.setString(1, pid);
                      ps.setLong(2, ++seq);
                      ps.setLong(3, System.currentTimeMillis());
                      ps.setBytes(4, payload);
                      try {
                        ps.executeUpdate();
                      } catch (Exception e) {
                        errors.incrementAndGet();
                        continue;
                      }
                      long t1 = System.nanoTime();
                      if (t0 >= measureFrom && n < lat.length) lat[n++] = t1 - t0;
                    }
                    counts[id] = n;
                  }
                  done.countDown();
                  release.await();
                } catch (Exception e) {
                  e.printStackTrace();
                  errors.incrementAndGet();
                  done.countDown();
                }
              },
              "insert-" + t);
      th.start();
    }
    long untilMeasure = (measureFrom - System.nanoTime()) / 1_000_000;
    if (untilMeasure > 0) Thread.sleep(untilMeasure);
    System.out.println("MEASURE_START");
    done.await();
    System.out.println("MEASURE_END");
    System.out.flush();
    Thread.sleep(2_000); // run.sh takes its CPU snapshot now
    release.countDown();

    int total = Arrays.stream(counts).sum();
    long[] all = new long[total];
    int k = 0;
    for (int t = 0; t < threads; t++) {
      System.arraycopy(latencies.get(t), 0, all, k, counts[t]);
      k += counts[t];
    }
    Arrays.sort(all);
    System.out.println("threads=" + threads);
    System.out.println("inserts=" + total);
    System.out.printf("rate=%.0f%n", total / (measureMs / 1000.0));
    System.out.printf("p50_ms=%.2f%n", Receiver.percentile(all, 50) / 1e6);
    System.out.printf("p99_ms=%.2f%n", Receiver.percentile(all, 99) / 1e6);
    System.out.printf("p999_ms=%.2f%n", Receiver.percentile(all, 99.9) / 1e6);
    System.out.println("errors=" + errors.get());

    try (Connection c = DriverManager.getConnection(url, props); Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS " + TABLE);
    }
  }
}
