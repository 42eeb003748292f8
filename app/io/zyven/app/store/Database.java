package io.zyven.app.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;

/**
 * Connections for the read-model tables (the journal has its own Slick pool). JDBC blocks,
 * so every query runs on this class's own threads, one per connection, never on a
 * dispatcher thread. At most {@code queueLimit} queries wait for a thread; past that a
 * query fails at once with {@link RejectedExecutionException} (the API answers 503 with
 * Retry-After) rather than pile up. Every statement on the pool's connections has the
 * statement timeout of the URL it is given ({@link #withStatementTimeout}).
 */
public final class Database implements AutoCloseable {

  @FunctionalInterface
  public interface Sql<T> {
    T run(Connection connection) throws SQLException;
  }

  private final HikariDataSource dataSource;
  private final ExecutorService executor;
  private final String migrationUrl;
  private final String user;
  private final String password;

  /**
   * {@code url} is for the queries ({@link #withStatementTimeout} gives them a timeout);
   * {@code migrationUrl} for Flyway, whose migrations must not be cut off by it.
   */
  /** Without a statement timeout, and with a queue of 1000: for tools and tests. */
  public Database(String url, String user, String password, int poolSize) {
    this(url, url, user, password, poolSize, 1000, Duration.ofSeconds(5));
  }

  /** {@code connectionTimeout}: the longest a query waits for a connection (then 503). */
  public Database(
      String url, String migrationUrl, String user, String password, int poolSize, int queueLimit,
      Duration connectionTimeout) {
    this.migrationUrl = migrationUrl;
    this.user = user;
    this.password = password;
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(poolSize);
    config.setMinimumIdle(1);
    config.setConnectionTimeout(connectionTimeout.toMillis());
    config.setPoolName("zyven-readmodel");
    this.dataSource = new HikariDataSource(config);
    this.executor =
        new ThreadPoolExecutor(
            poolSize,
            poolSize,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(queueLimit),
            r -> {
              Thread t = new Thread(r, "zyven-jdbc");
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.AbortPolicy());
  }

  /**
   * {@code url} with a server-side statement timeout on every statement of its connections
   * (pgjdbc's {@code options} parameter: {@code -c statement_timeout=…}); a statement that
   * runs longer is cancelled by PostgreSQL (SQLState 57014).
   */
  public static String withStatementTimeout(String url, java.time.Duration timeout) {
    String options = "-c statement_timeout=" + timeout.toMillis();
    return url + (url.contains("?") ? "&" : "?") + "options="
        + java.net.URLEncoder.encode(options, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Work done inside {@link #inTransaction}. */
  interface Work<T> {
    T run() throws SQLException;
  }

  /** Runs {@code work} on {@code c} in one transaction: all of its writes or none. */
  static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
    c.setAutoCommit(false);
    try {
      T result = work.run();
      c.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** Creates or migrates every table (journal and read model), idempotently. */
  public void migrate() {
    // Its own connection, without the statement timeout of the query pool.
    Flyway.configure()
        .dataSource(migrationUrl, user, password)
        .locations("classpath:db/migration")
        .load()
        .migrate();
  }

  public <T> CompletionStage<T> query(Sql<T> sql) {
    try {
      return CompletableFuture.supplyAsync(
          () -> {
            try (Connection c = dataSource.getConnection()) {
              return sql.run(c);
            } catch (SQLException e) {
              throw new CompletionException(failure(e));
            }
          },
          executor);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(e); // the queue is full (or the pool closed)
    }
  }

  /** A connection of the pool, for callers that manage their own transaction. */
  public Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  /** The connection pool itself, for its metrics (connections in use, idle, awaited). */
  public HikariDataSource pool() {
    return dataSource;
  }

  /** Whether PostgreSQL answers now. */
  public CompletionStage<Boolean> ping() {
    return query(c -> c.isValid(2)).exceptionally(e -> false);
  }

  @Override
  public void close() {
    executor.shutdown();
    dataSource.close();
  }

  /**
   * What a failed query means: the database is away or busy (no connection, shutting down,
   * out of resources, the pool or a statement timed out) and the caller may retry; or the statement itself was
   * refused (a data error, a broken constraint, a bug), which retrying will not change.
   */
  static RuntimeException failure(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    boolean outage =
        e instanceof java.sql.SQLTransientConnectionException // the pool's connection timeout
            || e instanceof java.sql.SQLNonTransientConnectionException
            || state.startsWith("08") // connection exception
            || state.startsWith("53") // insufficient resources
            || state.equals("57P01") || state.equals("57P02") || state.equals("57P03") // shutting down, cannot connect now
            || state.equals("57014") // cancelled, as by a statement timeout: the database is slow, not the request wrong
            || state.equals("40001") || state.equals("40P01") // serialization failure, deadlock: a retry may pass
            || state.isEmpty() && e.getCause() instanceof java.io.IOException;
    return outage ? new DatabaseUnavailable(e) : new StatementFailed(e);
  }

  /**
   * The database refused a statement (its SQLState says why): not an outage, so not a 503.
   * Class 22 (data exception) is a value the database cannot take, e.g. a time out of its range.
   */
  public static final class StatementFailed extends RuntimeException {
    public StatementFailed(SQLException cause) {
      super(cause.getMessage(), cause);
    }

    public String sqlState() {
      return ((SQLException) getCause()).getSQLState();
    }

    public boolean dataException() {
      return sqlState() != null && sqlState().startsWith("22");
    }
  }

  /** A query failed because the database is unavailable, not because of the request: answer 503. */
  public static final class DatabaseUnavailable extends RuntimeException {
    public DatabaseUnavailable(SQLException cause) {
      super(cause.getMessage(), cause);
    }
  }
}
