package io.zyven.app.readmodel;

import io.zyven.app.event.EventEntity;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** Test seam: {@link RetentionArchive#write} is package-private; tests elsewhere call it here. */
public final class RetentionArchiveAccess {
  private RetentionArchiveAccess() {}

  public static void write(RetentionArchive archive, Connection c, List<EventEntity.State> events) throws SQLException {
    archive.write(c, events);
  }
}
