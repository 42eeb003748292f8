package io.zyven.protocol;

import java.time.Instant;
import java.util.List;

/** Request and response bodies of {@code /v1/tenants}. */
public final class TenantApi {
  private TenantApi() {}

  /** The API key is shown here once; only its hash is stored. */
  public record TenantCreated(String id, String name, String apiKey) {}

  /**
   * A tenant as the admin sees it: never its keys, only how many it has; its endpoints; its
   * dead-lettered events (counted up to 10 000); its own retention period in days (null:
   * the node's {@code zyven.retention.period}); whether its endpoints are verified by
   * default ({@code verify_endpoints}); whether ingest refuses types not in its catalogue
   * ({@code require_registered_types}).
   */
  public record TenantView(
      String id, String name, Instant createdAt, int apiKeys, int endpoints, int deadLetters, Integer retentionPeriodDays,
      boolean verifyEndpoints, boolean requireRegisteredTypes) {}

  public record TenantList(List<TenantView> data) {}

  /** A new key for an existing tenant, shown once. */
  public record TenantKeyCreated(String id, String tenantId, String apiKey, Instant createdAt) {}
}
