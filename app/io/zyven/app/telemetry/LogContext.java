package io.zyven.app.telemetry;

import org.slf4j.MDC;

/**
 * Puts {@code tenant_id}, {@code event_id} and {@code endpoint_id} in the logging MDC for
 * the duration of one log call, so that JSON logs carry them as fields. Never payloads,
 * keys or secrets.
 *
 * <p>Set around the call rather than per actor: an actor runs on whichever dispatcher thread
 * it is given, and the thread's MDC would otherwise hold another actor's values. The
 * appender writes the line within the call (it is synchronous), so the values it sees are
 * these.
 */
public final class LogContext {
  public static final String TENANT_ID = "tenant_id";
  public static final String EVENT_ID = "event_id";
  public static final String ENDPOINT_ID = "endpoint_id";

  private static final String[] KEYS = {TENANT_ID, EVENT_ID, ENDPOINT_ID};

  private LogContext() {}

  /** Runs {@code logCall} with these values (each may be null: left out) in the MDC, then restores it. */
  public static void log(String tenantId, String eventId, String endpointId, Runnable logCall) {
    String[] values = {tenantId, eventId, endpointId};
    String[] previous = new String[KEYS.length];
    for (int i = 0; i < KEYS.length; i++) {
      if (values[i] == null) continue;
      previous[i] = MDC.get(KEYS[i]);
      MDC.put(KEYS[i], values[i]);
    }
    try {
      logCall.run();
    } finally {
      for (int i = 0; i < KEYS.length; i++) {
        if (values[i] == null) continue;
        if (previous[i] == null) MDC.remove(KEYS[i]);
        else MDC.put(KEYS[i], previous[i]);
      }
    }
  }
}
