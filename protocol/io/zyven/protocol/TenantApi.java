package io.zyven.protocol;

/** Request and response bodies of {@code /v1/tenants}. */
public final class TenantApi {
  private TenantApi() {}

  /** The API key is shown here once; only its hash is stored. */
  public record TenantCreated(String id, String name, String apiKey) {}
}
