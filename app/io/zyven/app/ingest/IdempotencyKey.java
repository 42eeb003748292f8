package io.zyven.app.ingest;

/**
 * A producer's Idempotency-Key: 1-255 printable ASCII characters. Constructing one checks
 * it, so an invalid key never gets as far as an event id.
 */
public record IdempotencyKey(String value) {

  public static final int MAX_LENGTH = 255;

  /** @throws Invalid when {@code value} is null (no key given) or breaks the rules */
  public IdempotencyKey {
    if (value == null) throw new Invalid(Invalid.Reason.MISSING);
    if (value.isEmpty() || value.length() > MAX_LENGTH || !value.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
      throw new Invalid(Invalid.Reason.MALFORMED);
    }
  }

  /** Why a key was refused; the caller words it for its own protocol. */
  public static final class Invalid extends RuntimeException {
    public enum Reason {
      MISSING,
      MALFORMED
    }

    private final Reason reason;

    Invalid(Reason reason) {
      // Refused requests are routine: no stack trace to fill in.
      super("Idempotency-Key " + reason, null, false, false);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }
}
