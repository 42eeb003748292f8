package io.zyven.app.http;

import java.util.UUID;

final class Ids {
  private Ids() {}

  /**
   * The canonical (lower-case) form of a UUID from a path, which is the entity id. A path
   * that is not a UUID names nothing that exists: 404.
   */
  static String canonical(String id, String what) {
    try {
      return UUID.fromString(id).toString();
    } catch (IllegalArgumentException e) {
      throw Problems.notFound("no " + what + " " + id);
    }
  }
}
