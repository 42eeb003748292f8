package io.zyven.app.ingest;

import com.networknt.schema.Schema;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Compiled event-type schemas of this node, by tenant and type, each with the catalogue
 * version it was compiled from. Ingest reads the current version from PostgreSQL on every
 * request and recompiles when it differs, so a change made on any node applies to the next
 * request here. Bounded: the least recently used entry goes first.
 */
final class SchemaCache {

  record Entry(long version, Schema schema) {}

  private final Map<String, Entry> entries;

  SchemaCache(int maxEntries) {
    this.entries = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
        return size() > maxEntries;
      }
    };
  }

  /**
   * The entry held for this type (null: none). Its version goes with the lookup, so that an
   * unchanged schema's text is not read again; the caller keeps the entry itself, so that
   * an eviction in between cannot take the schema away.
   */
  synchronized Entry held(String tenantId, String type) {
    return entries.get(key(tenantId, type));
  }

  /**
   * The compiled schema of this version: {@code held}'s when it is that version, else
   * {@code text} compiled (the lookup reads the text whenever the version differs from the
   * one held) and kept for the next requests.
   */
  Schema schema(String tenantId, String type, long version, String text, Entry held) {
    if (held != null && held.version() == version) return held.schema();
    // Compiled outside the lock: a schema can take a while, and other types must not wait.
    Schema schema = EventSchemas.compile(text);
    synchronized (this) {
      Entry e = entries.get(key(tenantId, type));
      if (e == null || e.version() < version) entries.put(key(tenantId, type), new Entry(version, schema));
    }
    return schema;
  }

  private static String key(String tenantId, String type) {
    return tenantId + "\n" + type;
  }
}
