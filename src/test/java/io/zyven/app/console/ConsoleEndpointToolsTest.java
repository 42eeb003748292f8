package io.zyven.app.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
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

/**
 * The endpoints page's status, Verify and Send test, in a real headless Chromium against a
 * real node and receiver.
 */
@ExtendWith(Browser.class)
class ConsoleEndpointToolsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  private static WebDriver browser;
  private static String base;
  private Tenant tenant;
  private String path;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(TestPostgres.shared(), Map.of("zyven.verification.timeout", "2s"));
    api = node.api;
    receiver = new Receiver();
    base = "http://127.0.0.1:" + node.zyven().httpPort();
    browser = Browser.driver();
  }

  @AfterAll
  static void stop() throws Exception {
    Browser.quit();
    receiver.close();
    node.close();
  }

  @BeforeEach
  void freshTenantAndSession() {
    tenant = api.createTenant("console-tools-" + UUID.randomUUID());
    path = "/" + UUID.randomUUID();
    Browser.signInFresh(base, tenant.apiKey(), PATIENCE);
  }

  @Test
  void aPendingEndpointShowsWhyAndVerifyFromThePagePassesOnceTheReceiverEchoes() {
    AtomicBoolean echo = new AtomicBoolean(false);
    receiver.respond(path, (n, r) -> Answer.status(200).withBody(echo.get() ? challenge(r) : "hello"));
    String id = endpoint("{\"url\":\"" + receiver.url(path) + "\",\"verify\":true}");
    Await.until("the first verification failed", PATIENCE,
        () -> api.get("/v1/endpoints/" + id, tenant.apiKey()).json().path("verification").path("state").asText().equals("failed"));

    browser.get(base + "/#/endpoints");
    String row = "tr[data-endpoint-id='" + id + "'] ";
    waitFor(By.cssSelector(row + ".endpoint-status[data-status='pending_verification']"));
    assertEquals("pending verification", browser.findElement(By.cssSelector(row + ".endpoint-status")).getText());
    String why = browser.findElement(By.cssSelector(row + ".verification")).getText();
    assertTrue(why.startsWith("verification failed: ") && why.contains("without echoing the challenge"), why);
    assertFalse(browser.findElement(By.cssSelector(row + "button.send-test")).isEnabled(), "nothing to test while pending");

    echo.set(true);
    browser.findElement(By.cssSelector(row + "button.verify")).click();
    waitForText(By.cssSelector("#view [role=status]"), "Verified");
    waitFor(By.cssSelector(row + ".endpoint-status[data-status='active']"));
    waitForText(By.cssSelector(row + ".verification"), "verification verified");
    assertEquals("verified", api.get("/v1/endpoints/" + id, tenant.apiKey()).json().get("verification").get("state").asText());
    assertEquals(2, receiver.requests(path).size(), "two challenges, nothing else");
    Browser.screenshot("console-endpoint-verified");
  }

  @Test
  void sendTestFromThePageDeliversAndLinksToTheEvent() {
    String id = endpoint("{\"url\":\"" + receiver.url(path) + "\"}");
    browser.get(base + "/#/endpoints");
    String row = "tr[data-endpoint-id='" + id + "'] ";
    waitFor(By.cssSelector(row + ".endpoint-status[data-status='active']"));

    browser.findElement(By.cssSelector(row + "button.send-test")).click();
    waitFor(By.cssSelector(".send-test-form input[name=test_type]")).sendKeys("order.paid");
    browser.findElement(By.cssSelector(".send-test-form button[type=submit]")).click();

    WebElement link = waitFor(By.cssSelector("a.test-event"));
    Await.until("the test event at the receiver", PATIENCE, () -> receiver.requests(path).size() == 1);
    Receiver.Request arrived = receiver.requests(path).get(0);
    assertEquals("order.paid", arrived.header("X-Event-Type"));
    assertEquals(arrived.header("webhook-id"), link.getText());
    assertTrue(link.getAttribute("href").endsWith("#/events/" + arrived.header("webhook-id")), link.getAttribute("href"));

    link.click();
    waitFor(By.cssSelector(".delivery .status[data-status='DELIVERED']"));
  }

  private String endpoint(String json) {
    Response r = api.postJson("/v1/endpoints", tenant.apiKey(), json);
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }

  private WebElement waitFor(By by) {
    return new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  private void waitForText(By by, String text) {
    new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.textToBePresentInElementLocated(by, text));
  }

  private static String challenge(Receiver.Request r) {
    try {
      return ApiClient.JSON.readTree(r.bodyText()).path("challenge").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
