package io.zyven.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/** Response bodies of {@code /v1/alert-channels}. */
public final class AlertApi {
  private AlertApi() {}

  /**
   * A channel. {@code secret} (a webhook channel's signing secret) is there only in the
   * answer to create; {@code routingKey} is shown masked but for its last four characters;
   * {@code lastSends} only when one channel is read.
   */
  public record AlertChannelView(
      String id,
      String kind,
      String url,
      String routingKey,
      List<String> to,
      List<String> eventTypes,
      @JsonInclude(JsonInclude.Include.NON_NULL) String secret,
      Instant createdAt,
      Instant updatedAt,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<AlertSendView> lastSends) {}

  /**
   * One message sent to a channel, newest first. {@code eventId} is the Zyven event that
   * carries it (webhook, slack, pagerduty: see its attempts in {@code GET /v1/events/{id}})
   * and {@code deliveryStatus} that delivery's status; {@code outcome} is {@code accepted}
   * (handed to the delivery path), {@code sent} (email) or {@code failed}.
   */
  public record AlertSendView(
      Instant at, List<String> types, String summary, String eventId, String outcome, String deliveryStatus,
      String error) {}

  public record AlertChannelList(List<AlertChannelView> data) {}

  /** The answer to a test: what the test message became. */
  public record AlertTestSent(String channelId, String eventId, String outcome, String error) {}
}
