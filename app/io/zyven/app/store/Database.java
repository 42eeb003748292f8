package io.zyven.app.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.flywaydb.core.Flyway;

/**
 * Connections for the read-model tables (the journal has its own Slick pool). JDBC blocks,
 * so every query runs on this class's own threads, one per connection, never on a
 * dispatcher thread.
 */
public final class Database implements AutoCloseable {

  @FunctionalInterface
  public interface Sql<T> {
    T run(Connection connection) throws SQLException;
  }

  private final HikariDataSource dataSource;
  private final ExecutorService executor;

  public Database(String url, String user, String password, int poolSize) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(poolSize);
    config.setMinimumIdle(1);
    config.setConnectionTimeout(5_000);
    config.setPoolName("zyven-readmodel");
    this.dataSource = new HikariDataSource(config);
    this.executor =
        Executors.newFixedThreadPool(
            poolSize,
            r -> {
              Thread t = new Thread(r, "zyven-jdbc");
              t.setDaemon(true);
              return t;
            });
  }

  /** Creates or migrates every table (journal and read model), idempotently. */
  public void migrate() {
    Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
  }

  public <T> CompletionStage<T> query(Sql<T> sql) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (Connection c = dataSource.getConnection()) {
            return sql.run(c);
          } catch (SQLException e) {
            throw new CompletionException(failure(e));
          }
        },
        executor);
  }

  /** A connection of the pool, for callers that manage their own transaction. */
  public Connection connection() throws SQLException {
    return dataSource.getConnection();
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
