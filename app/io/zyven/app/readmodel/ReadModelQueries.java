package io.zyven.app.readmodel;

import io.zyven.app.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/** Queries of the read model. It trails the journal by the projection's lag. */
public final class ReadModelQueries {
  private final Database db;

  public ReadModelQueries(Database db) {
    this.db = db;
  }

  /** Ids of the events whose delivery to this endpoint was dead-lettered in [since, until). */
  public CompletionStage<List<String>> deadLetters(String tenantId, String endpointId, Instant since, Instant until) {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
              "SELECT event_id FROM deliveries WHERE endpoint_id = ? AND tenant_id = ?"
                  + " AND status = 'DEAD_LETTERED' AND status_changed_at >= ? AND status_changed_at < ?"
                  + " ORDER BY status_changed_at")) {
            st.setObject(1, UUID.fromString(endpointId));
            st.setObject(2, UUID.fromString(tenantId));
            st.setTimestamp(3, Timestamp.from(since));
            st.setTimestamp(4, Timestamp.from(until));
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) ids.add(rs.getString(1));
            }
            return ids;
          }
        });
  }
}
