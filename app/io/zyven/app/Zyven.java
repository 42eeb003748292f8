package io.zyven.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.zyven.app.alert.AlertChannelService;
import io.zyven.app.alert.Alerts;
import io.zyven.app.endpoint.CircuitBreaker;
import io.zyven.app.endpoint.EndpointDispatcher;
import io.zyven.app.endpoint.EndpointEntity;
import io.zyven.app.endpoint.SecretResealer;
import io.zyven.app.endpoint.TargetGuard;
import io.zyven.app.endpoint.WebhookClient;
import io.zyven.app.delivery.DeliveryPolicy;
import io.zyven.app.delivery.Dispatch;
import io.zyven.app.event.EventEntity;
import io.zyven.app.http.EndpointRoutes;
import io.zyven.app.http.HttpApi;
import io.zyven.app.http.PortalRoutes;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.metrics.Metrics;
import io.zyven.app.readmodel.EventProjection;
import io.zyven.app.readmodel.EventRemoval;
import io.zyven.app.readmodel.MetricsRefresher;
import io.zyven.app.readmodel.ReadModelQueries;
import io.zyven.app.readmodel.RetentionArchive;
import io.zyven.app.readmodel.RetentionSweep;
import io.zyven.app.readmodel.Waker;
import io.zyven.app.store.AdminKey;
import io.zyven.app.store.Database;
import io.zyven.app.store.EmbeddedDatabase;
import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.PortalKeys;
import io.zyven.app.store.SecretBox;
import io.zyven.app.store.TenantStore;
import io.zyven.app.telemetry.Tracing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.dispatch.Dispatcher;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.persistence.jdbc.db.SlickExtension;
import org.apache.pekko.persistence.jdbc.db.SlickExtensionImpl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import slick.jdbc.hikaricp.HikariCPJdbcDataSource;

/**
 * One Zyven node: its database (given, or embedded), schema, actor system, sharded
 * entities and HTTP API. {@link Main} starts one from the environment; tests start several.
 */
public final class Zyven implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Zyven.class);

  private final ActorSystem<Void> system;
  private final ServerBinding binding;
  /** {@code ZYVEN_DEV=true}: a node for trying Zyven on one's own machine, never for production. */
  private static final Config DEV_MODE =
      ConfigFactory.parseMap(
          Map.of("zyven.http.host", "127.0.0.1", "zyven.delivery.allow-private-targets", true));

  private Zyven(ActorSystem<Void> system, ServerBinding binding) {
    this.system = system;
    this.binding = binding;
  }

  /** Starts a node from a full config (application.conf plus overrides). */
  public static Zyven start(Config config) throws Exception {
    ProjectionStopLineFilter.install();
    boolean dev = config.getBoolean("zyven.dev");
    if (dev) config = DEV_MODE.withFallback(config);
    Config zyven = config.getConfig("zyven");

    EmbeddedDatabase embedded = null;
    String url = zyven.getString("db.url");
    String user = zyven.getString("db.user");
    String password = zyven.getString("db.password");
    if (url.isEmpty()) {
      embedded = EmbeddedDatabase.start(Path.of(zyven.getString("data-dir")));
      url = embedded.jdbcUrl();
      user = embedded.user();
      password = "";
    }
    url = url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true";
    // Every query, the journal's included, has a statement timeout; migrations do not.
    String timedUrl = Database.withStatementTimeout(url, zyven.getDuration("db.statement-timeout"));

    Database db =
        new Database(
            timedUrl, url, user, password, zyven.getInt("db.pool-size"), zyven.getInt("db.queue-limit"),
            zyven.getDuration("db.connection-timeout"));
    db.migrate();
    SecretBox secrets;
    try {
      // Before the actor system: a malformed key or setting stops the node before anything runs.
      Alerts.check(zyven.getConfig("alerts"));
      secrets = secretBox(db, zyven, dev);
    } catch (Exception e) {
      db.close();
      if (embedded != null) embedded.close();
      throw e;
    }

    String slick = "pekko-persistence-jdbc.shared-databases.default.db.";
    Config full =
        ConfigFactory.parseMap(Map.of(slick + "url", timedUrl, slick + "user", user, slick + "password", password))
            .withFallback(config)
            .resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "zyven", full);
    closeStorageOnShutdown(system, db, embedded);
    stopOnSignals(system, zyven.getDuration("shutdown.timeout"), embedded);
    try {
      return serve(system, full, zyven, dev, db, embedded, secrets);
    } catch (Exception e) {
      // Not a working node (its port is taken, say): stop what did start, storage included,
      // and leave the exit to the caller, which says why.
      CoordinatedShutdown.get(system).runAll(StartFailed.INSTANCE).toCompletableFuture().get(60, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Why a node stops before it has started: the JVM is not exited (see application.conf). */
  public enum StartFailed implements CoordinatedShutdown.Reason {
    INSTANCE;

    @Override
    public String toString() {
      return "the node did not start";
    }
  }

  private static Zyven serve(
      ActorSystem<Void> system,
      Config full,
      Config zyven,
      boolean dev,
      Database db,
      EmbeddedDatabase embedded,
      SecretBox secrets)
      throws Exception {
    Cluster cluster = Cluster.get(system);
    ClusterLog.start(system);
    // Started now, so that its settings are read (and an exporter reported) at start-up.
    Tracing.get(system);
    if (full.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }

    Config delivery = zyven.getConfig("delivery");
    boolean privateTargets = delivery.getBoolean("allow-private-targets");
    if (privateTargets && !dev) {
      log.warn(
          "The SSRF guard is off (zyven.delivery.allow-private-targets = true): webhooks may go to"
              + " loopback and private addresses. For development only.");
    }
    DeliveryPolicy policy = DeliveryPolicy.fromConfig(delivery);
    Config dns = zyven.getConfig("dns");
    TargetGuard guard =
        new TargetGuard(
            privateTargets, dnsExecutor(dns.getInt("threads"), dns.getInt("queue-limit")), dns.getDuration("timeout"));
    WebhookClient client = new WebhookClient(system, secrets, guard, delivery.getDuration("connect-timeout"));
    EndpointIndex index = new EndpointIndex(db);
    TenantStore tenants =
        new TenantStore(
            db,
            new TenantStore.Settings(
                zyven.getDuration("api-keys.cache-ttl"), zyven.getDuration("api-keys.last-used-every")));
    EndpointEntity.init(
        system, index, secrets, client, endpointSettings(zyven), zyven.getDuration("verification.timeout"));
    ClusterSharding sharding = ClusterSharding.get(system);
    Dispatch.Endpoints endpoints =
        new Dispatch.Endpoints() {
          @Override
          public void dispatch(String endpointId, Dispatch dispatch) {
            sharding.entityRefFor(EndpointEntity.TYPE_KEY, endpointId).tell(new EndpointEntity.Deliver(dispatch));
          }

          @Override
          public void withdraw(String endpointId, String eventId) {
            sharding.entityRefFor(EndpointEntity.TYPE_KEY, endpointId).tell(new EndpointEntity.Withdraw(eventId));
          }
        };
    Config retention = zyven.getConfig("retention");
    String archiveDir = retention.getString("archive-dir");
    EventRemoval removal =
        new EventRemoval(
            db, archiveDir.isEmpty() ? Optional.empty() : Optional.of(new RetentionArchive(Path.of(archiveDir))));
    EventEntity.init(
        system,
        endpoints,
        removal,
        new EventEntity.Settings(
            policy,
            delivery.getDuration("queue-timeout"),
            delivery.getDuration("reply-margin"),
            zyven.getInt("endpoint-defaults.max-attempts"),
            delivery.getDuration("passivate-before-retry"),
            delivery.getDuration("handoff-wait"),
            delivery.getInt("attempts-kept")));

    EventProjection.init(system, db);
    Config waker = zyven.getConfig("waker");
    Waker.init(
        system,
        new ReadModelQueries(db),
        new Waker.Settings(
            waker.getDuration("interval"),
            waker.getDuration("retry-grace"),
            delivery.getDuration("queue-timeout").plus(delivery.getDuration("reply-margin")),
            delivery.getDuration("timeout"),
            waker.getDuration("rewake-after"),
            waker.getInt("batch")));

    // The keys this node's API needs, read before the background workers start querying:
    // with a small zyven.db.queue-limit, their queries could otherwise fill the queue first.
    String configuredKey = zyven.getString("admin-key");
    AdminKey adminKey =
        configuredKey.isEmpty()
            ? AdminKey.fromDatabase(db, cluster.selfMember().address().toString())
            : AdminKey.configured(configuredKey);
    byte[] portalKey = PortalKeys.load(db, zyven.getString("portal.signing-key"));

    Config metrics = zyven.getConfig("metrics");
    MetricsRefresher.start(
        system,
        db,
        new MetricsRefresher.Settings(metrics.getDuration("refresh-interval"), metrics.getInt("top-endpoints")));
    observePoolsAndDispatchers(system, db);

    RetentionSweep.init(
        system,
        db,
        new RetentionSweep.Settings(
            retention.getDuration("period"),
            retention.getDuration("interval"),
            retention.getInt("batch"),
            retention.getInt("max-in-flight"),
            retention.getInt("max-per-second"),
            retention.getInt("min-per-second"),
            retention.getDouble("busy-cpu"),
            zyven.getDuration("ingest.ask-timeout")));

    AlertChannelService alerts =
        Alerts.start(
            system,
            zyven.getConfig("alerts"),
            zyven.getString("http.public-url"),
            db,
            index,
            secrets,
            guard,
            new IngestService.Settings(
                zyven.getDuration("ingest.ask-timeout"),
                zyven.getDuration("ingest.ask-timeout-while-unreachable"),
                zyven.getDuration("ingest.resend-after")),
            new AlertChannelService.EndpointDefaults(
                zyven.getInt("endpoint-defaults.max-in-flight"),
                (int) zyven.getDuration("delivery.timeout").toMillis(),
                zyven.getInt("endpoint-defaults.max-attempts")),
            zyven.getDuration("ingest.ask-timeout"));

    HttpApi api =
        new HttpApi(
            system, db, tenants, index, guard, secrets, httpSettings(zyven, adminKey),
            new PortalRoutes.Settings(
                portalKey, zyven.getString("http.public-url")),
            alerts);
    ServerBinding binding =
        Http.get(system)
            .newServerAt(zyven.getString("http.host"), zyven.getInt("http.port"))
            .bind(api.route())
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
    // Outgoing webhook connections close in order, not torn down with the actor system; only
    // after the hand-offs, which let the requests already sent finish (for a while). A pool
    // waits for its requests still out, which a receiver may hold for minutes: not longer
    // than a second more, then the actor system's end closes them.
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-webhook-pools",
            () -> Http.get(system).shutdownAllConnectionPools().toCompletableFuture()
                .thenApply(v -> Done.getInstance())
                .completeOnTimeout(Done.getInstance(), 1, TimeUnit.SECONDS));
    Banner banner =
        new Banner(
            zyven.getString("http.host"),
            binding.localAddress().getPort(),
            dev,
            adminKey.origin(),
            privateTargets,
            embedded != null ? embedded.dataDirectory().toString() : null);
    // Printed last, once this node is a cluster member and serves the API; in JSON mode, as
    // one log line like any other.
    org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system))
        .registerOnMemberUp(() -> {
          if (LogFormat.current() == LogFormat.JSON) log.atInfo().addKeyValue("url", banner.url()).log(banner.line());
          else System.out.println(banner.text());
        });
    org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system))
        .registerOnMemberUp(
            () -> SecretResealer.start(
                system, index, secrets, zyven.getInt("secrets.reseal-batch"), zyven.getDuration("ingest.ask-timeout")));
    return new Zyven(system, binding);
  }

  /**
   * The master key of endpoint secrets; a development key when none is set, with a warning
   * (only a note in development mode, which is for one's own machine anyway).
   */
  private static SecretBox secretBox(Database db, Config zyven, boolean dev) throws Exception {
    SecretBox box = SecretBox.load(db, zyven.getString("secrets.key"), zyven.getString("secrets.previous-keys"));
    if (box.origin() == SecretBox.Origin.DEVELOPMENT && dev) {
      log.info("Endpoint secrets are sealed under a development key stored in the database (ZYVEN_SECRET_KEY is not set)");
    } else if (box.origin() == SecretBox.Origin.DEVELOPMENT) {
      log.warn(
          "ZYVEN_SECRET_KEY is not set: endpoint secrets are sealed under a development key stored in the"
              + " database itself, which protects them from nothing that can read the database. For development"
              + " only: set ZYVEN_SECRET_KEY (openssl rand -base64 32), the same on every node.");
    }
    log.info("Endpoint secrets are sealed under master key {}", box.currentKeyId());
    return box;
  }

  private static HttpApi.Settings httpSettings(Config zyven, AdminKey adminKey) {
    return new HttpApi.Settings(
        adminKey,
        zyven.getBytes("ingest.max-body"),
        zyven.getDuration("ingest.ask-timeout"),
        zyven.getDuration("ingest.ask-timeout-while-unreachable"),
        zyven.getDuration("ingest.resend-after"),
        zyven.getDuration("ingest.retry-after"),
        zyven.getInt("ingest.rate-limit-per-key"),
        new EndpointRoutes.Defaults(
            zyven.getInt("endpoint-defaults.max-in-flight"),
            (int) zyven.getDuration("delivery.timeout").toMillis(),
            zyven.getInt("endpoint-defaults.max-attempts")),
        new EndpointRoutes.Limits(
            zyven.getInt("endpoints.max-per-tenant"),
            zyven.getInt("recover.batch-size"),
            zyven.getInt("recover.max-in-flight")),
        zyven.getString("console.frame-ancestors"));
  }

  private static EndpointDispatcher.Settings endpointSettings(Config zyven) {
    Config circuit = zyven.getConfig("circuit");
    return new EndpointDispatcher.Settings(
        zyven.getInt("delivery.queue-limit"),
        zyven.getDuration("delivery.queue-timeout"),
        new CircuitBreaker.Settings(
            circuit.getInt("failure-threshold"), circuit.getDuration("cooldown"), circuit.getDuration("max-cooldown")),
        circuit.getDuration("disable-after"),
        zyven.getDuration("delivery.handoff-wait"),
        zyven.getDuration("transformation.wall-time"));
  }

  /**
   * The connection pools (read model, journal) and the fork-join pools of the default and
   * internal dispatchers, shown in /metrics until this node's actor system terminates.
   */
  private static void observePoolsAndDispatchers(ActorSystem<?> system, Database db) {
    Set<Object> observed = Collections.newSetFromMap(new IdentityHashMap<>());
    Metrics.connectionPool("readmodel", db.pool());
    observed.add(db.pool());
    Config config = system.settings().config();
    String journalDb = config.getString("jdbc-journal.use-shared-db");
    if (!journalDb.isEmpty()) {
      SlickExtensionImpl slick = (SlickExtensionImpl) SlickExtension.get(system.classicSystem());
      if (slick.database(ConfigFactory.parseMap(Map.of("use-shared-db", journalDb))).database().source()
          instanceof HikariCPJdbcDataSource hikari) {
        Metrics.connectionPool("journal", hikari.ds());
        observed.add(hikari.ds());
      }
    }
    for (String name : List.of("pekko.actor.default-dispatcher", "pekko.actor.internal-dispatcher")) {
      if (system.classicSystem().dispatchers().lookup(name) instanceof Dispatcher dispatcher
          && dispatcher.executorService().executor() instanceof ForkJoinPool pool) {
        Metrics.dispatcher(name, pool);
        observed.add(pool);
      }
    }
    system.classicSystem().registerOnTermination(() -> Metrics.forget(observed));
  }

  // DNS resolution blocks; it gets threads of its own, and a bounded queue: past it a
  // lookup fails at once (503 at registration, a retryable failure for a delivery).
  private static ExecutorService dnsExecutor(int threads, int queueLimit) {
    return new ThreadPoolExecutor(
        threads,
        threads,
        0,
        TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(queueLimit),
        r -> {
          Thread t = new Thread(r, "zyven-dns");
          t.setDaemon(true);
          return t;
        },
        new ThreadPoolExecutor.AbortPolicy());
  }

  /**
   * Storage closes once the actor system has terminated, when nothing can use it any more,
   * and in this order: the Slick pool(s) of pekko-persistence-jdbc, the read-model pool, then
   * the embedded PostgreSQL. In a coordinated-shutdown phase it would be too early: the read
   * journal's sequence actor polls the journal until termination. Stopping PostgreSQL under
   * open pools made every shutdown look like a crash ("FATAL: terminating connection due to
   * administrator command", Hikari's "Failed to validate connection").
   */
  private static void closeStorageOnShutdown(ActorSystem<?> system, Database db, EmbeddedDatabase embedded) {
    // Callbacks run in reverse order of registration, and whenTerminated completes after
    // them. This one is registered before any journal is used, so it runs after
    // pekko-persistence-jdbc's own (which closes its shared databases on termination), but
    // it closes them itself too (closing twice is harmless) rather than rely on that order.
    system.classicSystem().registerOnTermination(() -> {
      closeQuietly("the journal's database pool", () -> closeJournalDatabases(system));
      closeQuietly("the read-model database pool", db::close);
      if (embedded != null) closeQuietly("the embedded PostgreSQL", embedded::close);
    });
  }

  private static void closeQuietly(String what, AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      log.warn("Could not close {} cleanly", what, e);
    }
  }

  // The shared Slick databases the journal, snapshot store and read journal use. (A plugin
  // with a database of its own closes it when it stops.)
  private static void closeJournalDatabases(ActorSystem<?> system) {
    Config config = system.settings().config();
    SlickExtensionImpl slick = (SlickExtensionImpl) SlickExtension.get(system.classicSystem());
    Stream.of("jdbc-journal", "jdbc-snapshot-store", "jdbc-read-journal")
        .filter(plugin -> config.hasPath(plugin + ".use-shared-db"))
        .map(plugin -> config.getString(plugin + ".use-shared-db"))
        .filter(name -> !name.isEmpty())
        .distinct()
        .forEach(name -> slick.database(ConfigFactory.parseMap(Map.of("use-shared-db", name))).database().close());
  }

  /**
   * When the node owns its JVM (as {@link Main} runs it), SIGTERM and SIGINT run coordinated
   * shutdown, which ends with the JVM exiting with status 0 (exit-jvm), rather than start the
   * JVM's shutdown hooks directly. Those hooks all run at once, in no order, and the embedded
   * PostgreSQL registers one (zonky's {@code EmbeddedPostgres} closer: {@code pg_ctl stop -m
   * fast}) that stopped PostgreSQL at the first instant, under the journal and the
   * projections. After coordinated shutdown the hooks find nothing left to do.
   */
  private static void stopOnSignals(ActorSystem<?> system, Duration timeout, EmbeddedDatabase embedded) {
    if (!system.settings().config().getBoolean("pekko.coordinated-shutdown.exit-jvm")) return;
    ShutdownSignals.onTermOrInt(() -> {
      startShutdownDeadline(timeout, embedded);
      CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.jvmExitReason());
    });
  }

  /**
   * The bound of {@code zyven.shutdown.timeout} on a stop, whatever holds it up (a phase
   * waiting for its own timeout, a cluster that does not answer). Past it, the node stops
   * its embedded PostgreSQL (a fast, crash-safe stop) and exits 0: everything accepted is
   * in the journal already, and attempts cut short are retried as lost replies.
   */
  private static void startShutdownDeadline(Duration timeout, EmbeddedDatabase embedded) {
    Thread deadline = new Thread(() -> {
      try {
        Thread.sleep(timeout.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      log.warn("The node did not stop within zyven.shutdown.timeout ({}): stopping now", timeout);
      if (embedded != null) closeQuietly("the embedded PostgreSQL", embedded::close);
      Runtime.getRuntime().halt(0);
    }, "zyven-shutdown-deadline");
    deadline.setDaemon(true);
    deadline.start();
  }

  public int httpPort() {
    return binding.localAddress().getPort();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** Leaves the cluster gracefully and stops, like SIGTERM. */
  @Override
  public void close() throws Exception {
    CoordinatedShutdown.get(system)
        .runAll(CoordinatedShutdown.unknownReason())
        .toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
  }
}
