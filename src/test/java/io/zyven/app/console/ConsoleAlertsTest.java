package io.zyven.app.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The console's Alerts page in a real headless Chromium, against a real node and receivers. */
@ExtendWith(Browser.class)
class ConsoleAlertsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);
  private static final String HOSTILE = "<img src=x onerror=alert(1)>";

  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  /** A receiver that answers every webhook with markup in its body, as a stranger may. */
  private static HttpServer hostile;
  private static WebDriver browser;
  private static String base;
  private Tenant tenant;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(TestPostgres.shared(), Map.of());
    api = node.api;
    receiver = new Receiver();
    hostile = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hostile.createContext("/", exchange -> {
      try (exchange) {
        exchange.getRequestBody().readAllBytes();
        byte[] body = HOSTILE.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "text/html");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    });
    hostile.start();
    base = "http://127.0.0.1:" + node.zyven().httpPort();
    browser = Browser.driver();
  }

  @AfterAll
  static void stop() throws Exception {
    Browser.quit();
    hostile.stop(0);
    receiver.close();
    node.close();
  }

  @BeforeEach
  void freshTenantAndSession() {
    tenant = api.createTenant("console-alerts-" + UUID.randomUUID());
    Browser.signInFresh(base, tenant.apiKey(), PATIENCE);
  }

  private WebElement waitFor(By by) {
    return new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  private void waitForText(By by, String text) {
    new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.textToBePresentInElementLocated(by, text));
  }

  private String channel(String json) {
    Response r = api.postJson("/v1/alert-channels", tenant.apiKey(), json);
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }

  private static String box(String channelId) {
    return "div.alert-channel[data-channel-id='" + channelId + "'] ";
  }

  @Test
  void aChannelMadeThroughTheApiIsListedWithoutItsUrlOrRoutingKeyInFull() {
    String webhook = channel("{\"kind\":\"webhook\",\"url\":\"" + receiver.url("/hooks/T0001/B0002/tokenXYZsecret42")
        + "\",\"event_types\":[\"endpoint.disabled\"]}");
    String pagerduty = channel("{\"kind\":\"pagerduty\",\"url\":\"" + receiver.url("/pd")
        + "\",\"routing_key\":\"R0123456789abcdef0123456789abcde\"}");

    browser.get(base + "/#/alerts");

    waitForText(By.cssSelector(box(webhook) + ".kind"), "webhook");
    String target = browser.findElement(By.cssSelector(box(webhook) + ".target")).getText();
    assertTrue(target.startsWith("http://127.0.0.1:") && target.endsWith("/…et42"), target);
    assertTrue(browser.findElement(By.cssSelector(box(webhook))).getText().contains("hears endpoint.disabled"));
    waitForText(By.cssSelector(box(pagerduty) + ".target"), "routing key ****bcde");
    assertTrue(browser.findElement(By.cssSelector(box(pagerduty))).getText().contains("hears every type"));
    waitForText(By.cssSelector(box(webhook) + "tbody"), "nothing sent yet");
    String page = browser.getPageSource();
    assertFalse(page.contains("tokenXYZsecret"), "the URL's secret part is not in the page");
    assertFalse(page.contains("0123456789abcdef"), "the routing key is not in the page");
  }

  @Test
  void sendTestDeliversATestAlertAndShowsTheSendWithItsEvent() {
    String id = channel("{\"kind\":\"webhook\",\"url\":\"" + receiver.url("/console-alerts/test") + "\"}");
    browser.get(base + "/#/alerts");

    waitFor(By.cssSelector(box(id) + "button.send-test")).click();

    Await.until("the test alert at the receiver", PATIENCE, () -> receiver.requests("/console-alerts/test").size() == 1);
    Receiver.Request arrived = receiver.requests("/console-alerts/test").get(0);
    assertTrue(arrived.bodyText().contains("\"alert.test\""), arrived.bodyText());
    waitForText(By.cssSelector("#view [role=status]"), "Test alert accepted");
    waitForText(By.cssSelector(box(id) + "tr.alert-send .summary"), "Test alert");
    // The page asks again until the delivery is settled, and then shows the receiver's answer.
    waitFor(By.cssSelector(box(id) + "tr.alert-send .status[data-status='DELIVERED']"));
    waitForText(By.cssSelector(box(id) + "tr.alert-send td.answer"), "200 answer 200");
    WebElement link = browser.findElement(By.cssSelector(box(id) + "a.send-event"));
    assertTrue(link.getAttribute("href").endsWith("#/events/" + arrived.header("webhook-id")), link.getAttribute("href"));
    Browser.screenshot("console-alerts");

    link.click();
    waitFor(By.cssSelector(".delivery .status[data-status='DELIVERED']"));
  }

  @Test
  void aReceiversAnswerWithMarkupIsShownAsText() {
    String id = channel("{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:" + hostile.getAddress().getPort() + "/hook\"}");
    browser.get(base + "/#/alerts");

    waitFor(By.cssSelector(box(id) + "button.send-test")).click();

    waitForText(By.cssSelector(box(id) + "tr.alert-send td.answer"), HOSTILE);
    assertTrue(browser.findElements(By.cssSelector("#view img")).isEmpty(), "no element was made from the answer");
    // onerror would fire after the image failed to load: give it a moment to show an alert.
    assertThrows(org.openqa.selenium.TimeoutException.class,
        () -> new WebDriverWait(browser, Duration.ofSeconds(1)).until(ExpectedConditions.alertIsPresent()));
  }

  @Test
  void aChannelMadeInThePageIsThereThroughTheApiAndIsDeletedFromThePage() {
    browser.get(base + "/#/alerts");
    waitFor(By.cssSelector(".alert-channel-form input[name=url]")).sendKeys(receiver.url("/console-alerts/made"));
    browser.findElement(By.cssSelector(".alert-channel-form input[name=event_types]")).sendKeys("endpoint.disabled, delivery.dead_lettered");
    browser.findElement(By.cssSelector(".alert-channel-form button[type=submit]")).click();

    String id = waitFor(By.id("created-channel")).getText();
    assertTrue(browser.findElement(By.cssSelector("#view [role=status]")).getText().contains("whsec_"), "the secret, shown once");
    Response r = api.get("/v1/alert-channels/" + id, tenant.apiKey());
    assertEquals(200, r.status(), r.body());
    assertEquals(receiver.url("/console-alerts/made"), r.json().get("url").asText());
    assertEquals(2, r.json().get("event_types").size());

    waitFor(By.cssSelector(box(id) + "button.danger")).click();
    browser.switchTo().alert().accept();
    waitForText(By.cssSelector("#view [role=status]"), "Deleted.");
    assertTrue(browser.findElements(By.cssSelector(box(id))).isEmpty());
    assertEquals(404, api.get("/v1/alert-channels/" + id, tenant.apiKey()).status());
  }
}
