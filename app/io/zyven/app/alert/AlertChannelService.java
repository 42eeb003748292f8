package io.zyven.app.alert;

import io.zyven.app.alert.AlertChannels.Channel;
import io.zyven.app.endpoint.EndpointEntity;
import io.zyven.app.endpoint.TargetGuard;
import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.SecretBox;
import io.zyven.protocol.AlertApi.AlertChannelList;
import io.zyven.protocol.AlertApi.AlertChannelView;
import io.zyven.protocol.AlertApi.AlertSendView;
import io.zyven.protocol.AlertApi.AlertTestSent;
import io.zyven.protocol.EndpointConfig;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * A tenant's alert channels. A channel of a kind delivered through the normal path
 * (webhook, slack, pagerduty) owns an internal endpoint, created with it: an
 * {@link EndpointEntity} marked {@code internal}, so its messages are journaled, signed and
 * retried like any webhook, while it stays out of fan-out, endpoint lists and counts, and
 * raises no operational event itself. The channel row is written last, so a request that
 * fails part-way leaves at most an internal endpoint that nothing reaches.
 */
public final class AlertChannelService {

  /** A checked new channel: {@code url} already defaulted for pagerduty. */
  public record NewChannel(String kind, String url, String routingKey, List<String> to, List<String> eventTypes) {}

  /** A checked PATCH: null fields stay as they are. */
  public record ChannelPatch(String url, String routingKey, List<String> to, List<String> eventTypes) {}

  /** Defaults of a channel's endpoint, as for any endpoint. */
  public record EndpointDefaults(int maxInFlight, int timeoutMs, int maxAttempts) {}

  /** The tenant has {@code max} channels already. */
  public static final class LimitReached extends RuntimeException {
    public LimitReached(long max) {
      super("a tenant has at most " + max + " alert channels; delete one first", null, false, false);
    }
  }

  /** An email channel, but no SMTP server is configured. */
  public static final class NoSmtp extends RuntimeException {
    NoSmtp() {
      super("email channels need an SMTP server: set zyven.alerts.smtp.host", null, false, false);
    }
  }

  public static final int MAX_PER_TENANT = 20;
  private static final int SENDS_SHOWN = 10;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ClusterSharding sharding;
  private final EndpointIndex index;
  private final SecretBox secrets;
  private final TargetGuard guard;
  private final AlertChannels channels;
  private final AlertSender sender;
  private final boolean smtp;
  private final EndpointDefaults defaults;
  private final Duration askTimeout;
  private final String pagerDutyUrl;
  private final Executor ec;

  AlertChannelService(
      ActorSystem<?> system, EndpointIndex index, SecretBox secrets, TargetGuard guard, AlertChannels channels,
      AlertSender sender, boolean smtp, EndpointDefaults defaults, Duration askTimeout, String pagerDutyUrl) {
    this.sharding = ClusterSharding.get(system);
    this.index = index;
    this.secrets = secrets;
    this.guard = guard;
    this.channels = channels;
    this.sender = sender;
    this.smtp = smtp;
    this.defaults = defaults;
    this.askTimeout = askTimeout;
    this.pagerDutyUrl = pagerDutyUrl;
    this.ec = system.executionContext();
  }

  /** Where a pagerduty channel without a url sends (zyven.alerts.pagerduty-url). */
  public String pagerDutyUrl() {
    return pagerDutyUrl;
  }

  static boolean viaPath(String kind) {
    return !kind.equals("email");
  }

  public CompletionStage<AlertChannelView> create(String tenantId, NewChannel request) {
    UUID tenant = UUID.fromString(tenantId);
    if (request.kind().equals("email") && !smtp) return CompletableFuture.failedFuture(new NoSmtp());
    UUID id = UUID.randomUUID();
    Instant now = Instant.now();
    return channels.count(tenant)
        .thenComposeAsync(count -> {
          if (count >= MAX_PER_TENANT) throw new LimitReached(MAX_PER_TENANT);
          return request.url() == null ? CompletableFuture.<Void>completedFuture(null) : guard.checkUrl(request.url());
        }, ec)
        .thenComposeAsync(ok -> {
          if (!viaPath(request.kind())) return CompletableFuture.completedFuture(new OwnEndpoint(null, null));
          return createEndpoint(tenantId, id, request, now);
        }, ec)
        .thenComposeAsync(own -> {
          Channel ch = new Channel(id, tenant, request.kind(), request.url(), request.routingKey(), request.to(),
              request.eventTypes(), own.id(), now, now);
          return channels.insert(ch)
              .thenApply(v -> view(ch, request.kind().equals("webhook") ? own.secret() : null, null));
        }, ec);
  }

  /** A channel's internal endpoint and its signing secret, in clear. */
  private record OwnEndpoint(UUID id, String secret) {}

  private CompletionStage<OwnEndpoint> createEndpoint(String tenantId, UUID channelId, NewChannel request, Instant now) {
    String endpointId = UUID.randomUUID().toString();
    String secret = newSecret();
    EndpointConfig config = new EndpointConfig(
        endpointId, tenantId, request.url(), "alert channel " + channelId + " (" + request.kind() + ")", List.of(),
        secrets.seal(endpointId, secret), null, null, true, defaults.maxInFlight(), null, defaults.timeoutMs(),
        defaults.maxAttempts(), Map.of(), now, now, 1, true);
    return askEndpoint(endpointId, replyTo -> new EndpointEntity.Create(config, replyTo))
        .thenComposeAsync(c -> index.upsert(c, false), ec)
        .thenApply(v -> new OwnEndpoint(UUID.fromString(endpointId), secret));
  }

  public CompletionStage<AlertChannelList> list(String tenantId) {
    return channels.list(UUID.fromString(tenantId))
        .thenApply(list -> new AlertChannelList(list.stream().map(ch -> view(ch, null, null)).toList()));
  }

  public CompletionStage<Optional<AlertChannelView>> get(String tenantId, String id) {
    return channels.get(UUID.fromString(tenantId), UUID.fromString(id))
        .thenComposeAsync(found -> found.isEmpty()
            ? CompletableFuture.completedFuture(Optional.<AlertChannelView>empty())
            : channels.lastSends(found.get().id(), found.get().endpointId(), SENDS_SHOWN)
                .thenApply(sends -> Optional.of(view(found.get(), null, sends))), ec);
  }

  /**
   * Empty when the tenant has no such channel. {@code check} refuses a patch that does not
   * fit the channel's kind (it throws), before anything is written. The url goes to the
   * channel's endpoint too.
   */
  public CompletionStage<Optional<AlertChannelView>> update(
      String tenantId, String id, ChannelPatch patch, java.util.function.BiConsumer<ChannelPatch, String> check) {
    return channels.get(UUID.fromString(tenantId), UUID.fromString(id))
        .thenComposeAsync(found -> {
          if (found.isEmpty()) return CompletableFuture.completedFuture(Optional.<AlertChannelView>empty());
          Channel ch = found.get();
          check.accept(patch, ch.kind());
          Channel updated = new Channel(ch.id(), ch.tenantId(), ch.kind(),
              patch.url() != null ? patch.url() : ch.url(),
              patch.routingKey() != null ? patch.routingKey() : ch.routingKey(),
              patch.to() != null ? patch.to() : ch.to(),
              patch.eventTypes() != null ? patch.eventTypes() : ch.eventTypes(),
              ch.endpointId(), ch.createdAt(), Instant.now());
          CompletionStage<Void> endpoint = CompletableFuture.completedFuture(null);
          if (patch.url() != null && ch.endpointId() != null) {
            EndpointEntity.Patch p = new EndpointEntity.Patch(
                patch.url(), null, false, null, null, null, null, false, null, null, null, null, false);
            // A new url is a fresh start: a channel's endpoint disabled by its old receiver
            // (410 Gone, say) is enabled again.
            endpoint = guard.checkUrl(patch.url())
                .thenComposeAsync(ok -> askEndpoint(ch.endpointId().toString(),
                    replyTo -> new EndpointEntity.Update(tenantId, p, replyTo)), ec)
                .thenComposeAsync(c -> askEndpoint(ch.endpointId().toString(),
                    replyTo -> new EndpointEntity.Enable(tenantId, replyTo)), ec)
                .thenComposeAsync(c -> index.upsert(c, false), ec);
          }
          return endpoint
              .thenComposeAsync(v -> channels.update(updated), ec)
              .thenApply(v -> Optional.of(view(updated, null, null)));
        }, ec);
  }

  /** Whether the tenant had the channel. Its endpoint is deleted after the channel. */
  public CompletionStage<Boolean> delete(String tenantId, String id) {
    return channels.get(UUID.fromString(tenantId), UUID.fromString(id))
        .thenComposeAsync(found -> {
          if (found.isEmpty()) return CompletableFuture.completedFuture(false);
          Channel ch = found.get();
          return channels.delete(ch.tenantId(), ch.id())
              .thenComposeAsync(v -> ch.endpointId() == null
                  ? CompletableFuture.completedFuture(true)
                  : askEndpoint(ch.endpointId().toString(), replyTo -> new EndpointEntity.Delete(tenantId, replyTo))
                      .thenComposeAsync(c -> index.upsert(c, true), ec)
                      .thenApply(v2 -> true), ec);
        }, ec);
  }

  /** Sends a test message through the channel's own path; empty when there is no such channel. */
  public CompletionStage<Optional<AlertTestSent>> test(String tenantId, String id) {
    return channels.get(UUID.fromString(tenantId), UUID.fromString(id))
        .thenComposeAsync(found -> found.isEmpty()
            ? CompletableFuture.completedFuture(Optional.<AlertTestSent>empty())
            : sender.test(found.get()).thenApply(sent -> Optional.of(new AlertTestSent(
                found.get().id().toString(), sent.eventId() == null ? null : sent.eventId().toString(), sent.outcome(),
                sent.error()))), ec);
  }

  private CompletionStage<EndpointConfig> askEndpoint(
      String endpointId, Function<ActorRef<EndpointEntity.Reply>, EndpointEntity.Command> command) {
    return sharding.entityRefFor(EndpointEntity.TYPE_KEY, endpointId)
        .<EndpointEntity.Reply>ask(command::apply, askTimeout)
        .thenApplyAsync(reply -> {
          if (reply instanceof EndpointEntity.Current current) return current.config();
          throw new CompletionException(new IllegalStateException("the channel's endpoint " + endpointId + " is gone"));
        }, ec);
  }

  private static AlertChannelView view(Channel ch, String secret, List<AlertChannels.Send> sends) {
    return new AlertChannelView(
        ch.id().toString(), ch.kind(), ch.url(), mask(ch.routingKey()), ch.to(), ch.eventTypes(), secret,
        ch.createdAt(), ch.updatedAt(),
        sends == null ? null : sends.stream().map(s -> new AlertSendView(
            s.at(), s.types(), s.summary(), s.eventId() == null ? null : s.eventId().toString(), s.outcome(),
            s.deliveryStatus(), s.error())).toList());
  }

  /** A routing key is a credential: only its last four characters are shown again. */
  static String mask(String routingKey) {
    if (routingKey == null) return null;
    return routingKey.length() <= 4 ? "****" : "****" + routingKey.substring(routingKey.length() - 4);
  }

  /** {@code whsec_} + base64 of 32 random bytes, as an endpoint's. */
  private static String newSecret() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return "whsec_" + Base64.getEncoder().encodeToString(key);
  }
}
