package io.zyven.app;

import io.zyven.app.alert.Alerts;
import io.zyven.app.store.SecretBox;
import java.net.BindException;

/** A failed start in one line that says what to do, for the problems a newcomer meets. */
final class StartupProblem {
  private StartupProblem() {}

  static boolean isKnown(Throwable t) {
    return bindFailure(t) != null || badKey(t) != null || badAlertSetting(t) != null;
  }

  static String describe(Throwable t) {
    Alerts.BadSetting badAlert = badAlertSetting(t);
    if (badAlert != null) return badAlert.getMessage() + ".";
    SecretBox.BadKey badKey = badKey(t);
    if (badKey != null) return badKey.getMessage() + ".";
    BindException bind = bindFailure(t);
    if (bind != null) {
      return "an address it listens on is already in use (" + bind.getMessage() + "). Another Zyven,"
          + " or another program, is using it: stop it, or choose free ports with ZYVEN_HTTP_PORT"
          + " (HTTP, 8080) and ZYVEN_CLUSTER_PORT (cluster, 25520).";
    }
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    return root.getClass().getSimpleName() + ": " + root.getMessage() + " (details follow)";
  }

  private static SecretBox.BadKey badKey(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof SecretBox.BadKey b) return b;
    }
    return null;
  }

  private static Alerts.BadSetting badAlertSetting(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof Alerts.BadSetting b) return b;
    }
    return null;
  }

  private static BindException bindFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof BindException b) return b;
    }
    // Some layers wrap it in text only (Artery's "Failed to bind").
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c.getMessage() != null && c.getMessage().contains("Address already in use")) {
        return new BindException(c.getMessage());
      }
    }
    return null;
  }
}
