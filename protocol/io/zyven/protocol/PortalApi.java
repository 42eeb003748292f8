package io.zyven.protocol;

import java.time.Instant;
import java.util.List;

/** Response bodies of {@code /v1/portal-sessions}. */
public final class PortalApi {
  private PortalApi() {}

  /**
   * A portal session: {@code token} acts for the tenant within {@code scope} (and for
   * {@code endpointIds} only, unless empty) until {@code expiresAt}. {@code url} opens the
   * console with the token in its fragment, which browsers never send to a server.
   */
  public record PortalSessionCreated(
      String token, String url, Instant expiresAt, String scope, List<String> endpointIds) {}
}
