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

  /** The version held for this type (0: none), which the lookup sends so that an unchanged schema is not read again. */
  synchronized long version(String tenantId, String type) {
    Entry e = entries.get(key(tenantId, type));
    return e == null ? 0 : e.version();
  }

  /**
   * The compiled schema of this version: the cached one, or {@code text} compiled (when the
   * lookup read it because the cached version was stale). Null when neither is at hand,
   * which happens only if another request evicted or replaced the entry in between.
   */
  Schema schema(String tenantId, String type, long version, String text) {
    String key = key(tenantId, type);
    synchronized (this) {
      Entry e = entries.get(key);
      if (e != null && e.version() == version) return e.schema();
    }
    if (text == null) return null;
    // Compiled outside the lock: a schema can take a while, and other types must not wait.
    Schema schema = EventSchemas.compile(text);
    synchronized (this) {
      Entry e = entries.get(key);
      if (e == null || e.version() < version) entries.put(key, new Entry(version, schema));
    }
    return schema;
  }

  private static String key(String tenantId, String type) {
    return tenantId + "\n" + type;
  }
}
