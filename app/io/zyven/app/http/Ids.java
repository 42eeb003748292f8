package io.zyven.app.http;

import java.util.UUID;

final class Ids {
  private Ids() {}

  /**
   * The canonical (lower-case) form of a UUID from a path, which is the entity id. A path
   * id that is not a UUID is the client's mistake, not a missing thing: 400 invalid-id.
   */
  static String canonical(String id, String what) {
    UUID uuid = parse(id);
    if (uuid == null) throw Problems.invalidId(what, id);
    return uuid.toString();
  }

  /** The canonical form of a UUID given in a body field or query parameter; 400 otherwise. */
  static String field(String value, String field) {
    UUID uuid = parse(value);
    if (uuid == null) throw Problems.badRequest(field + " must be a UUID, got " + Problems.quote(value));
    return uuid.toString();
  }

  private static UUID parse(String id) {
    try {
      return UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
