package io.zyven.protocol;

import java.time.Instant;
import java.util.List;

/** Response bodies of {@code /v1/api-keys}: a tenant's own keys. */
public final class ApiKeyApi {
  private ApiKeyApi() {}

  /** A new key: {@code key} is shown here once; only its hash is stored. */
  public record ApiKeyCreated(
      String id, String name, String key, List<String> scopes, Integer rateLimitPerSecond, Instant createdAt) {}

  /** A key as its tenant lists it: never the key itself. {@code lastUsedAt} is null until it is used. */
  public record ApiKeyView(
      String id, String name, List<String> scopes, Integer rateLimitPerSecond, Instant createdAt, Instant lastUsedAt) {}

  public record ApiKeyList(List<ApiKeyView> data) {}
}
