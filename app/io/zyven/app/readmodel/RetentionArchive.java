package io.zyven.app.readmodel;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.zyven.app.delivery.DeliveryMachine.Delivery;
import io.zyven.app.event.EventEntity;
import io.zyven.app.json.Json;
import io.zyven.protocol.EventJournal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;

/**
 * Writes events that retention is about to remove as gzipped JSON Lines, one file per
 * tenant and day of the event's creation ({@code <dir>/<tenant_id>/<yyyy-mm-dd>.jsonl.gz}),
 * one line per event: the event, its payload, its deliveries and every attempt.
 *
 * <p>Each write appends one gzip member to each file it touches and forces it to disk
 * before the rows go; {@code zcat} and {@link java.util.zip.GZIPInputStream} read the
 * members of a file as one stream. An event can appear twice if its removal failed after
 * it was written: the later line is the one that counts.
 */
public final class RetentionArchive {
  private final Path dir;

  public RetentionArchive(Path dir) {
    this.dir = dir;
  }

  /** The file an event created at {@code createdAt} for {@code tenantId} goes to. */
  public Path fileFor(String tenantId, Instant createdAt) {
    return dir.resolve(UUID.fromString(tenantId).toString())
        .resolve(createdAt.atOffset(ZoneOffset.UTC).toLocalDate() + ".jsonl.gz");
  }

  /** Appends these events, with their attempts read through {@code c}, and forces the files to disk. */
  void write(Connection c, List<EventEntity.State> events) throws SQLException {
    Map<String, ArrayNode> attempts = attempts(c, events);
    Map<Path, StringBuilder> files = new LinkedHashMap<>();
    for (EventEntity.State state : events) {
      EventJournal.Received r = state.received();
      String line = line(state, attempts.getOrDefault(r.eventId(), Json.MAPPER.createArrayNode()));
      files.computeIfAbsent(fileFor(r.tenantId(), r.at()), f -> new StringBuilder()).append(line).append('\n');
    }
    try {
      for (Map.Entry<Path, StringBuilder> file : files.entrySet()) append(file.getKey(), file.getValue().toString());
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the retention archive " + dir, e);
    }
  }

  private static String line(EventEntity.State state, ArrayNode attempts) {
    EventJournal.Received r = state.received();
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("event_id", r.eventId());
    o.put("tenant_id", r.tenantId());
    o.put("type", r.type());
    o.put("idempotency_key", r.idempotencyKey());
    o.put("created_at", r.at().toString());
    // The payload as it was received, already checked to be JSON at ingest.
    if (r.payload() == null) o.putNull("payload");
    else o.putRawValue("payload", new RawValue(r.payload()));
    o.put("payload_expunged_at", state.payloadExpungedAt() == null ? null : state.payloadExpungedAt().toString());
    o.put("status", state.status().name());
    o.put("last_change_at", state.lastChangeAt().toString());
    ArrayNode deliveries = o.putArray("deliveries");
    for (Delivery d : state.deliveries().values()) {
      deliveries.addObject()
          .put("endpoint_id", d.endpointId())
          .put("status", d.status().name())
          .put("attempt_count", d.attemptCount())
          .put("last_error", d.lastError());
    }
    o.set("attempts", attempts);
    return o.toString();
  }

  /** Every attempt of these events, from the read model (the state keeps only the latest). */
  private static Map<String, ArrayNode> attempts(Connection c, List<EventEntity.State> events) throws SQLException {
    Map<String, ArrayNode> byEvent = new HashMap<>();
    try (PreparedStatement st = c.prepareStatement(
        "SELECT event_id, endpoint_id, number, started_at, status_code, latency_ms, error FROM attempts"
            + " WHERE event_id = ANY(?) ORDER BY event_id, endpoint_id, number")) {
      st.setArray(1, c.createArrayOf("uuid", events.stream().map(s -> UUID.fromString(s.received().eventId())).toArray()));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          ObjectNode a = byEvent.computeIfAbsent(rs.getString(1), k -> Json.MAPPER.createArrayNode()).addObject();
          a.put("endpoint_id", rs.getString(2));
          a.put("number", rs.getInt(3));
          a.put("started_at", rs.getTimestamp(4).toInstant().toString());
          int status = rs.getInt(5);
          if (rs.wasNull()) a.putNull("status_code");
          else a.put("status_code", status);
          a.put("latency_ms", rs.getLong(6));
          a.put("error", rs.getString(7));
        }
      }
    }
    return byEvent;
  }

  /**
   * Appends one gzip member. A node killed in the middle of an append leaves a torn member
   * that would stop every reader there: so the length of the file's last whole member is
   * kept beside it ({@code .<name>.length}, replaced atomically once the member is on
   * disk), and the next append first cuts the file back to it.
   */
  private static void append(Path file, String lines) throws IOException {
    Files.createDirectories(file.getParent());
    ByteArrayOutputStream member = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(member)) {
      gz.write(lines.getBytes(StandardCharsets.UTF_8));
    }
    Path length = file.resolveSibling("." + file.getFileName() + ".length");
    long whole = Files.exists(length) ? Long.parseLong(Files.readString(length).trim()) : 0;
    long end;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      // The file was moved away (rotated) but not its length: it starts again.
      whole = Math.min(whole, ch.size());
      if (ch.size() > whole) ch.truncate(whole);
      ch.position(whole);
      ByteBuffer bytes = ByteBuffer.wrap(member.toByteArray());
      while (bytes.hasRemaining()) ch.write(bytes);
      ch.force(true);
      end = ch.position();
    }
    Path next = length.resolveSibling(length.getFileName() + ".next");
    Files.writeString(next, Long.toString(end));
    try (FileChannel ch = FileChannel.open(next, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(next, length, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
