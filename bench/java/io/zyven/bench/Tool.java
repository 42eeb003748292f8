package io.zyven.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

/**
 * Small command-line helpers for bench/run.sh, so that the script needs neither jq nor
 * python:
 *
 * <pre>
 * Tool ready    BASE TIMEOUT_S                      wait until /health/ready answers 200
 * Tool tenant   BASE ADMIN_KEY NAME                 create a tenant, print its api key
 * Tool endpoint BASE API_KEY MAX_IN_FLIGHT URL...   create endpoints, print their ids (comma-separated)
 * Tool entities BASE ADMIN_KEY                      print "events=N endpoints=M" (live entities)
 * Tool metric   BASE NAME                           print a /metrics value (summed over labels)
 * Tool sql      JDBC_URL USER PASSWORD QUERY        print the first column of the first row
 * Tool pgstat   JDBC_URL USER PASSWORD              print the database's activity counters (key=value)
 * Tool histo    BEFORE AFTER ROWS                   compare two `jcmd GC.class_histogram` outputs:
 *                                                   total live bytes of each, and the classes that grew most
 * </pre>
 */
public final class Tool {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] a) throws Exception {
    switch (a[0]) {
      case "ready" -> ready(a[1], Integer.parseInt(a[2]));
      case "tenant" -> {
        JsonNode t = post(a[1] + "/v1/tenants", a[2], "{\"name\":\"" + a[3] + "\"}");
        System.out.println(t.get("api_key").asText());
      }
      case "endpoint" -> {
        StringBuilder ids = new StringBuilder();
        for (int i = 4; i < a.length; i++) {
          JsonNode e =
              post(
                  a[1] + "/v1/endpoints",
                  a[2],
                  "{\"url\":\"" + a[i] + "\",\"max_in_flight\":" + a[3] + ",\"description\":\"bench\"}");
          ids.append(ids.length() == 0 ? "" : ",").append(e.get("id").asText());
        }
        System.out.println(ids);
      }
      case "entities" -> {
        JsonNode c = get(a[1] + "/v1/cluster", a[2]);
        long events = 0, endpoints = 0;
        for (JsonNode m : c.get("members")) {
          events += m.path("sharding").path("Event").path("entities").asLong();
          endpoints += m.path("sharding").path("Endpoint").path("entities").asLong();
        }
        System.out.println("events=" + events + " endpoints=" + endpoints);
      }
      case "metric" -> {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create(a[1] + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        double sum = 0;
        for (String line : text.split("\n")) {
          if (line.startsWith(a[2] + " ") || line.startsWith(a[2] + "{")) {
            sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          }
        }
        System.out.println((long) sum);
      }
      case "sql" -> {
        try (Connection c = DriverManager.getConnection(a[1], a[2], a[3]);
            Statement st = c.createStatement();
            ResultSet rs = st.executeQuery(a[4])) {
          System.out.println(rs.next() ? rs.getString(1) : "");
        }
      }
      case "pgstat" -> {
        try (Connection c = DriverManager.getConnection(a[1], a[2], a[3]); Statement st = c.createStatement()) {
          String[] queries = {
            "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, blks_hit, blks_read"
                + " FROM pg_stat_database WHERE datname = current_database()",
            "SELECT sum(seq_scan) AS seq_scan, sum(seq_tup_read) AS seq_tup_read, sum(coalesce(idx_scan, 0)) AS idx_scan,"
                + " sum(coalesce(idx_tup_fetch, 0)) AS idx_tup_fetch"
                + " FROM pg_stat_user_tables",
          };
          StringBuilder out = new StringBuilder();
          for (String q : queries) {
            try (ResultSet rs = st.executeQuery(q)) {
              rs.next();
              for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                out.append(rs.getMetaData().getColumnLabel(i)).append('=').append(rs.getLong(i)).append(' ');
              }
            }
          }
          System.out.println(out.toString().trim());
        }
      }
      case "histo" -> histo(java.nio.file.Path.of(a[1]), java.nio.file.Path.of(a[2]), Integer.parseInt(a[3]));
      default -> throw new IllegalArgumentException("unknown command " + a[0]);
    }
  }

  /** Live bytes and instances per class, from `jcmd <pid> GC.class_histogram` (a full GC first). */
  private static java.util.Map<String, long[]> readHisto(java.nio.file.Path file) throws Exception {
    java.util.Map<String, long[]> m = new java.util.HashMap<>();
    for (String line : java.nio.file.Files.readAllLines(file)) {
      String t = line.trim();
      String[] f = t.split("\\s+");
      if (t.startsWith("Total") && f.length >= 3) {
        m.put("<total>", new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
      } else if (f.length >= 4 && f[0].endsWith(":")) {
        m.merge(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])},
            (x, y) -> new long[] {x[0] + y[0], x[1] + y[1]});
      }
    }
    return m;
  }

  private static void histo(java.nio.file.Path before, java.nio.file.Path after, int rows) throws Exception {
    var a = readHisto(before);
    var b = readHisto(after);
    long[] ta = a.getOrDefault("<total>", new long[2]);
    long[] tb = b.getOrDefault("<total>", new long[2]);
    System.out.println("live_before=" + ta[1]);
    System.out.println("live_after=" + tb[1]);
    java.util.List<String> names = new java.util.ArrayList<>(b.keySet());
    names.remove("<total>");
    names.sort((x, y) -> Long.compare(
        b.get(y)[1] - a.getOrDefault(y, new long[2])[1], b.get(x)[1] - a.getOrDefault(x, new long[2])[1]));
    for (int i = 0; i < Math.min(rows, names.size()); i++) {
      String n = names.get(i);
      long[] x = a.getOrDefault(n, new long[2]);
      long[] y = b.get(n);
      System.out.printf("grew %+,d bytes %+,d instances %s%n", y[1] - x[1], y[0] - x[0], n);
    }
  }

  private static void ready(String base, int timeoutS) throws Exception {
    long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<Void> r =
            HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) return;
      } catch (Exception notYet) {
        // not listening yet
      }
      Thread.sleep(500);
    }
    System.err.println("not ready after " + timeoutS + " s: " + base);
    System.exit(1);
  }

  private static JsonNode post(String url, String key, String body) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) throw new IllegalStateException(url + " -> " + r.statusCode() + " " + r.body());
    return JSON.readTree(r.body());
  }

  private static JsonNode get(String url, String key) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key).build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) throw new IllegalStateException(url + " -> " + r.statusCode() + " " + r.body());
    return JSON.readTree(r.body());
  }
}
