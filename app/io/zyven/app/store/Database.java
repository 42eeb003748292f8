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
            throw new CompletionException(new DatabaseUnavailable(e));
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

  /** A query failed because of the database, not because of the request: answer 503. */
  public static final class DatabaseUnavailable extends RuntimeException {
    public DatabaseUnavailable(SQLException cause) {
      super(cause.getMessage(), cause);
    }
  }
}
