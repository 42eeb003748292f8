package io.zyven.app.readmodel;

import io.zyven.app.store.Database;
import java.sql.Connection;
import java.sql.SQLException;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.projection.jdbc.JdbcSession;

/** One transaction of the projection: read-model rows and the offset commit together. */
public final class ReadModelSession implements JdbcSession {
  private final Connection connection;

  public ReadModelSession(Database db) {
    try {
      this.connection = db.connection();
      connection.setAutoCommit(false);
    } catch (SQLException e) {
      throw new IllegalStateException("no read-model connection", e);
    }
  }

  @Override
  public <R> R withConnection(Function<Connection, R> func) throws Exception {
    return func.apply(connection);
  }

  @Override
  public void commit() throws SQLException {
    connection.commit();
  }

  @Override
  public void rollback() throws SQLException {
    connection.rollback();
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
