package io.zyven.app;

import io.zyven.app.store.AdminKey;

/**
 * The block a node prints last at start-up: where it answers, how to get in, whether the
 * SSRF guard is on, and where its data lives. Everything a newcomer needs, in one place.
 */
record Banner(
    String host, int port, boolean dev, AdminKey.Origin adminKey, boolean privateTargets, String data) {

  String url() {
    String shownHost = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    return "http://" + shownHost + ":" + port;
  }

  String text() {
    StringBuilder b = new StringBuilder();
    b.append("\nZyven ready at ").append(url()).append('\n');
    if (dev) b.append("  mode:       development (ZYVEN_DEV): not for production\n");
    b.append("  admin key:  ").append(adminKeyLine()).append('\n');
    b.append("  SSRF guard: ")
        .append(privateTargets
            ? "OFF: webhooks may go to loopback and private addresses"
            : "on: webhooks go to public addresses only")
        .append('\n');
    b.append("  data:       ")
        .append(data != null ? data + " (embedded PostgreSQL)" : "the PostgreSQL at ZYVEN_DB_URL")
        .append('\n');
    return b.toString();
  }

  /**
   * The same as one line, for JSON logs, which are collected and kept: never the generated
   * admin key, only how to get one.
   */
  String line() {
    StringBuilder b = new StringBuilder("Zyven ready at ").append(url());
    if (dev) b.append("; mode: development (ZYVEN_DEV), not for production");
    b.append("; admin key: ");
    if (adminKey instanceof AdminKey.Generated) {
      b.append("generated and stored as a hash only; JSON logs never show it: get a new one with"
          + " `java -jar target/zyven.jar admin reset-key`, or set ZYVEN_ADMIN_KEY");
    } else if (adminKey instanceof AdminKey.Stored s) {
      b.append("printed once, when ").append(s.createdBy()).append(" first started on this database (")
          .append(s.createdAt()).append("); lost it? run `java -jar target/zyven.jar admin reset-key`")
          .append(" (or set ZYVEN_ADMIN_KEY)");
    } else {
      b.append("the one in ZYVEN_ADMIN_KEY");
    }
    b.append("; SSRF guard: ").append(privateTargets ? "OFF (webhooks may go to private addresses)" : "on");
    b.append("; data: ").append(data != null ? data + " (embedded PostgreSQL)" : "the PostgreSQL at ZYVEN_DB_URL");
    return b.toString();
  }

  private String adminKeyLine() {
    if (adminKey instanceof AdminKey.Generated g) {
      return g.key() + "\n              (shown this once: only its hash is stored; keep it)";
    }
    if (adminKey instanceof AdminKey.Stored s) {
      return "printed once, when " + s.createdBy() + " first started on this database ("
          + s.createdAt() + ").\n              Lost it? Run: java -jar target/zyven.jar admin reset-key"
          + " (or set ZYVEN_ADMIN_KEY)";
    }
    return "the one in ZYVEN_ADMIN_KEY";
  }
}
