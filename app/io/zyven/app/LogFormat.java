package io.zyven.app;

import java.util.Optional;

/**
 * {@code ZYVEN_LOG_FORMAT}: {@code text} (the default) or {@code json}. logback.xml reads
 * the same variable to pick its encoder, so any other value is refused before logging
 * starts rather than leaving the node without a console appender.
 */
enum LogFormat {
  TEXT,
  JSON;

  static final String VARIABLE = "ZYVEN_LOG_FORMAT";

  /** The format the environment asks for, or empty when its value is not one. */
  static Optional<LogFormat> fromEnvironment() {
    String value = System.getenv("ZYVEN_LOG_FORMAT");
    if (value == null) return Optional.of(TEXT);
    return switch (value) {
      case "text" -> Optional.of(TEXT);
      case "json" -> Optional.of(JSON);
      default -> Optional.empty();
    };
  }

  /** The format in use: TEXT unless the environment says json. */
  static LogFormat current() {
    return fromEnvironment().orElse(TEXT);
  }
}
