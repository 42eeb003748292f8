package io.zyven.app.alerts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Email channels: alerts reach a real SMTP server (GreenMail) started by the test. */
class EmailAlertsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static GreenMail smtp;
  private static TestNode node;
  private static Receiver receiver;
  private static ApiClient api;

  @BeforeAll
  static void start() throws Exception {
    smtp = new GreenMail(ServerSetupTest.SMTP.dynamicPort());
    smtp.start();
    receiver = new Receiver();
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.alerts.tick", "100ms",
        "zyven.alerts.group-wait", "100ms",
        "zyven.alerts.group-interval", "200ms",
        "zyven.alerts.smtp.host", "127.0.0.1",
        "zyven.alerts.smtp.port", smtp.getSmtp().getPort(),
        "zyven.alerts.smtp.from", "zyven@example.com",
        "zyven.alerts.smtp.starttls", false,
        "zyven.http.public-url", "https://zyven.example.com"));
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
    smtp.stop();
  }

  private static List<MimeMessage> to(String address) {
    return Arrays.stream(smtp.getReceivedMessages()).filter(m -> {
      try {
        return Arrays.stream(m.getAllRecipients()).anyMatch(a -> a.toString().equals(address));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }).toList();
  }

  @Test
  void aDeadLetterAndATestReachTheMailbox() throws Exception {
    Tenant tenant = api.createTenant("email");
    Response created = api.postJson("/v1/alert-channels", tenant.apiKey(),
        "{\"kind\":\"email\",\"to\":[\"ops@example.com\"]}");
    assertEquals(201, created.status(), created.body());
    String channelId = created.json().get("id").asText();

    receiver.on("/email/reject", n -> Answer.status(400));
    String endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/email/reject") + "\"}");
    Response ingested = api.ingest(tenant.apiKey(), "k-" + UUID.randomUUID(),
        "{\"type\":\"order.created\",\"payload\":{},\"endpoint_id\":\"" + endpointId + "\"}");
    String eventId = ingested.json().get("event_id").asText();

    Await.until("the alert mail", PATIENCE, () -> to("ops@example.com").size() == 1);
    MimeMessage mail = to("ops@example.com").get(0);
    assertEquals("zyven@example.com", mail.getFrom()[0].toString());
    assertTrue(mail.getSubject().contains("dead-lettered"), mail.getSubject());
    String body = GreenMailUtil.getBody(mail);
    assertTrue(body.contains(eventId), body);
    assertTrue(body.contains("https://zyven.example.com/#/events/" + eventId), body);
    Await.until("the send is recorded", PATIENCE, () -> api.get("/v1/alert-channels/" + channelId, tenant.apiKey())
        .json().at("/last_sends/0/outcome").asText().equals("sent"));

    Response test = api.postJson("/v1/alert-channels/" + channelId + "/test", tenant.apiKey(), "");
    assertEquals(202, test.status(), test.body());
    assertEquals("sent", test.json().get("outcome").asText());
    assertEquals(2, to("ops@example.com").size());
    assertTrue(to("ops@example.com").get(1).getSubject().contains("Test alert"));
  }
}
