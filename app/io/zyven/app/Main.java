package io.zyven.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.zyven.app.demo.DemoReceiver;
import io.zyven.app.store.AdminKey;
import io.zyven.app.store.Database;
import io.zyven.app.store.EmbeddedDatabase;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The command line. With no arguments it starts one node, configured from application.conf,
 * the {@code ZYVEN_*} environment variables it reads, and {@code -D} overrides.
 */
public final class Main {
  private Main() {}

  static final String USAGE =
      """
      usage: java -jar zyven.jar [command]
        (none)                 run a node
        dev                    run a node in development mode (as ZYVEN_DEV=true): it binds
                               127.0.0.1 and delivers to private addresses; not for production
        receiver --port <n> --secret <whsec_...> [--status <code>]
                               a demo webhook receiver that verifies signatures and prints
                               one line per request
        admin reset-key        replace the admin key stored in the database and print the new one
        help                   this text""";

  public static void main(String[] args) throws Exception {
    if (LogFormat.fromEnvironment().isEmpty()) {
      // Before anything logs: logback would find no encoder for it.
      System.err.println(
          LogFormat.VARIABLE + " must be text or json, not '" + System.getenv("ZYVEN_LOG_FORMAT") + "'");
      System.exit(2);
    }
    String command = args.length == 0 ? "" : args[0];
    String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
    switch (command) {
      case "" -> startNode(false);
      case "dev" -> startNode(true);
      case "receiver" -> DemoReceiver.main(rest);
      case "admin" -> {
        if (rest.length != 1 || !rest[0].equals("reset-key")) fail("unknown admin command");
        resetAdminKey();
      }
      case "help", "--help", "-h" -> System.out.println(USAGE);
      default -> fail("unknown command '" + command + "'");
    }
  }

  private static void startNode(boolean dev) throws Exception {
    // java.util.logging (the OpenTelemetry exporter, the PostgreSQL driver) goes through
    // logback like everything else, rather than to stderr in a format of its own.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    Config config = ConfigFactory.load();
    if (dev) config = config.withValue("zyven.dev", ConfigValueFactory.fromAnyRef(true));
    String seeds = System.getenv("ZYVEN_SEED_NODES");
    if (seeds != null && !seeds.isBlank()) {
      List<String> seedNodes =
          Arrays.stream(seeds.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
      config = config.withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedNodes));
    }
    // A node removed from the cluster (downed, or left) exits, so a supervisor restarts it.
    config = config.withValue("pekko.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef("on"));
    // Pekko prints its own start-up and shutdown warnings straight to stdout, outside
    // logback: in JSON mode, where every stdout line must be a JSON object, they go.
    if (LogFormat.current() == LogFormat.JSON) {
      config = config.withValue("pekko.stdout-loglevel", ConfigValueFactory.fromAnyRef("OFF"));
    }
    try {
      Zyven.start(config);
    } catch (Exception e) {
      System.err.println("Zyven could not start: " + StartupProblem.describe(e));
      if (!StartupProblem.isKnown(e)) e.printStackTrace();
      System.exit(1);
    }
  }

  /**
   * Replaces the stored admin key. Works whether or not a node is running: with the embedded
   * database, a PostgreSQL already running on the data directory is used as it is.
   */
  private static void resetAdminKey() throws Exception {
    Config zyven = ConfigFactory.load().getConfig("zyven");
    String url = zyven.getString("db.url");
    String user = zyven.getString("db.user");
    String password = zyven.getString("db.password");
    EmbeddedDatabase started = null;
    if (url.isEmpty()) {
      Path dataDir = Path.of(zyven.getString("data-dir"));
      Optional<Integer> running = EmbeddedDatabase.runningPort(dataDir);
      if (running.isPresent()) {
        url = "jdbc:postgresql://localhost:" + running.get() + "/postgres";
      } else {
        started = EmbeddedDatabase.start(dataDir);
        url = started.jdbcUrl();
      }
      user = "postgres";
      password = "";
    }
    String by = "admin reset-key on " + InetAddress.getLocalHost().getHostName();
    // Flyway holds two connections while it migrates.
    try (Database db = new Database(url, user, password, 2)) {
      db.migrate();
      String key = db.query(c -> AdminKey.reset(c, by)).toCompletableFuture().get();
      System.out.println("New admin key: " + key);
      System.out.println("Shown this once; only its hash is stored. Running nodes accept it, and refuse the old one, within seconds.");
      if (!zyven.getString("admin-key").isEmpty()) {
        System.out.println("Note: ZYVEN_ADMIN_KEY is set here. A node started with it uses that key, not the stored one.");
      }
    } finally {
      if (started != null) started.close();
    }
  }

  private static void fail(String message) {
    System.err.println(message);
    System.err.println(USAGE);
    System.exit(2);
  }
}
