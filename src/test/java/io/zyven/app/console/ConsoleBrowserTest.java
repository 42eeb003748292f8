package io.zyven.app.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The console in a real headless Chromium against a real node, receiver and PostgreSQL. */
@ExtendWith(Browser.class)
class ConsoleBrowserTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  private static WebDriver browser;
  private static String base;
  private Tenant tenant;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.delivery.retry-schedule", List.of("200ms"),
        "zyven.delivery.jitter", 0.0));
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
    tenant = api.createTenant("console-" + UUID.randomUUID());
    browser.get(base + "/");
    ((JavascriptExecutor) browser).executeScript("sessionStorage.clear()");
    browser.navigate().refresh(); // a fresh page: nothing of the last test's session is left
  }

  private void signIn(String key) {
    browser.get(base + "/");
    WebElement input = waitFor(By.name("api_key"));
    input.sendKeys(key);
    input.submit();
  }

  /** Signs in and waits until the page says who is signed in. */
  private void signedIn(String key) {
    signIn(key);
    waitForText(By.id("who"), "Signed in as");
  }

  private WebElement waitFor(By by) {
    return new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  private void waitForText(By by, String text) {
    new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.textToBePresentInElementLocated(by, text));
  }

  private String ingest(String key, String json) {
    Response r = api.ingest(tenant.apiKey(), key, json);
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  @Test
  void aTenantKeySignsInAndThePageSaysWho() {
    signIn(tenant.apiKey());

    waitForText(By.id("who"), "Signed in as tenant console-");
    waitFor(By.id("events"));
    assertTrue(browser.findElement(By.id("sign-out")).isDisplayed());
    assertTrue(browser.getCurrentUrl().indexOf(tenant.apiKey()) < 0, "no key in the URL");
  }

  @Test
  void aWrongKeyGetsAClearMessage() {
    signIn("zyv_not-a-key");

    waitForText(By.id("sign-in-error"), "That key was not accepted");
    assertTrue(browser.findElement(By.id("sign-in-error")).getText().contains("unknown API key"));
  }

  @Test
  void anEventSentWithTheApiAppearsWithoutAReload() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/live") + "\"}");
    signedIn(tenant.apiKey());
    waitFor(By.id("events"));
    ((JavascriptExecutor) browser).executeScript("window.stillThisPage = true");

    String id = ingest("live-1", "{\"type\":\"user.created\",\"payload\":{\"id\":1}}");

    waitFor(By.cssSelector("tr[data-event-id='" + id + "']"));
    assertEquals(Boolean.TRUE, ((JavascriptExecutor) browser).executeScript("return window.stillThisPage === true"),
        "the row came without a reload");
    waitForText(By.cssSelector("tr[data-event-id='" + id + "'] .status"), "DELIVERED");
    Browser.screenshot("console-events");
  }

  @Test
  void aDeadLetterIsReplayedFromTheEventPageAndBecomesDelivered() {
    receiver.on("/flaky", n -> Answer.status(n == 1 ? 400 : 200));
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/flaky") + "\"}");
    String id = ingest("dead-1", "{\"type\":\"order.paid\",\"payload\":{\"n\":1}}");
    Await.until("dead-lettered", PATIENCE, () -> api.listIds(tenant.apiKey(), "DEAD_LETTERED").contains(id));
    signedIn(tenant.apiKey());
    waitFor(By.id("events"));

    browser.get(base + "/#/events/" + id);
    waitFor(By.cssSelector(".delivery .status[data-status='DEAD_LETTERED']"));
    browser.findElement(By.cssSelector(".delivery button.replay")).click();

    waitFor(By.cssSelector(".delivery .status[data-status='DELIVERED']"));
    Browser.screenshot("console-event");
    assertEquals(2, receiver.requests("/flaky").size());
  }

  @Test
  void anEndpointCreatedInThePageIsThereThroughTheApi() {
    signedIn(tenant.apiKey());
    browser.get(base + "/#/endpoints");
    WebElement url = waitFor(By.cssSelector(".endpoint-form input[name=url]"));
    url.sendKeys(receiver.url("/made-in-the-page"));
    browser.findElement(By.cssSelector(".endpoint-form input[name=event_types]")).sendKeys("user.*");
    browser.findElement(By.cssSelector(".endpoint-form button[type=submit]")).click();

    String id = waitFor(By.id("created-endpoint")).getText();
    Response r = api.get("/v1/endpoints/" + id, tenant.apiKey());
    assertEquals(200, r.status(), r.body());
    assertEquals(receiver.url("/made-in-the-page"), r.json().get("url").asText());
    assertEquals("user.*", r.json().get("event_types").get(0).asText());
  }

  @Test
  void aHostilePayloadIsShownAsText() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hostile") + "\"}");
    String hostile = "<img src=x onerror=alert(1)>";
    String id = ingest("hostile-1", "{\"type\":\"user.created\",\"payload\":{\"bio\":\"" + hostile + "\"}}");
    signedIn(tenant.apiKey());
    waitFor(By.id("events"));

    browser.get(base + "/#/events/" + id);

    waitForText(By.id("payload"), hostile);
    assertTrue(browser.findElements(By.cssSelector("#view img")).isEmpty(), "no element was made from the payload");
    // onerror would fire after the image failed to load: give it a moment to show an alert.
    assertThrows(org.openqa.selenium.TimeoutException.class,
        () -> new WebDriverWait(browser, Duration.ofSeconds(1)).until(ExpectedConditions.alertIsPresent()));
  }

  @Test
  void anEventSentFromThePageShowsItsIdempotencyKeyAndArrives() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/sent") + "\"}");
    signedIn(tenant.apiKey());
    browser.get(base + "/#/send");
    WebElement type = waitFor(By.cssSelector("input[name=type]"));
    type.clear();
    type.sendKeys("invoice.paid");
    WebElement payload = browser.findElement(By.cssSelector("textarea[name=payload]"));
    payload.clear();
    payload.sendKeys("{\"invoice\": 7}");
    browser.findElement(By.cssSelector("#send-form button[type=submit]")).click();

    String key = waitFor(By.id("idempotency-key")).getText();
    String id = waitFor(By.id("sent-event")).getText();
    Await.until("the webhook at the receiver", PATIENCE, () -> receiver.requests("/sent").size() == 1);
    assertEquals(id, receiver.requests("/sent").get(0).header("webhook-id"));
    assertEquals("{\"invoice\":7}", receiver.requests("/sent").get(0).bodyText());
    // The key shown is the key used: sending it again is a replay of the same event.
    Response again = api.ingest(tenant.apiKey(), key, "{\"type\":\"invoice.paid\",\"payload\":{\"invoice\":7}}");
    assertEquals(200, again.status(), again.body());
    assertEquals(id, again.json().get("event_id").asText());
  }

  @Test
  void recoverSaysHowManyItWillSendThenSendsThem() {
    receiver.on("/recover", n -> Answer.status(n <= 3 ? 400 : 200));
    String endpoint = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/recover") + "\"}");
    List<String> ids = List.of(ingest("r-1", "{\"type\":\"a.b\",\"payload\":{}}"),
        ingest("r-2", "{\"type\":\"a.b\",\"payload\":{}}"), ingest("r-3", "{\"type\":\"a.b\",\"payload\":{}}"));
    Await.until("three dead letters", PATIENCE, () -> api.listIds(tenant.apiKey(), "DEAD_LETTERED").containsAll(ids));
    signedIn(tenant.apiKey());
    browser.get(base + "/#/dead-letters");
    waitFor(By.cssSelector("select[name=recover_endpoint] option[value='" + endpoint + "']"));
    ((JavascriptExecutor) browser).executeScript(
        "document.querySelector('input[name=recover_since]').value = '2000-01-01T00:00'");
    browser.findElement(By.xpath("//button[text()='Count']")).click();

    waitForText(By.cssSelector("#view [role=status]"), "3 dead-lettered deliveries");
    browser.findElement(By.xpath("//button[text()='Send them again']")).click();

    waitForText(By.cssSelector("#view [role=status]"), "Recovery started for 3 deliveries");
    Await.until("all three delivered", PATIENCE, () -> api.listIds(tenant.apiKey(), "DELIVERED").containsAll(ids));
  }

  @Test
  void aRotatedSecretIsShownOnceAndOtherwiseOnlyOnAClick() {
    String endpoint = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/rotate") + "\"}");
    String secret = api.get("/v1/endpoints/" + endpoint + "/secret", tenant.apiKey()).json().get("secret").asText();
    signedIn(tenant.apiKey());
    browser.get(base + "/#/endpoints");
    WebElement row = waitFor(By.cssSelector("tr[data-endpoint-id='" + endpoint + "']"));
    assertFalse(browser.getPageSource().contains(secret), "the secret is not in the page until asked for");

    row.findElement(By.xpath(".//button[text()='Reveal secret']")).click();
    waitForText(By.cssSelector("tr[data-endpoint-id='" + endpoint + "']"), secret);

    browser.findElement(By.xpath("//tr[@data-endpoint-id='" + endpoint + "']//button[text()='Rotate secret']")).click();
    String rotated = waitFor(By.id("new-secret")).getText();
    assertTrue(rotated.startsWith("whsec_") && !rotated.equals(secret));
    assertEquals(rotated, api.get("/v1/endpoints/" + endpoint + "/secret", tenant.apiKey()).json().get("secret").asText());
  }

  @Test
  void theOverviewChartsTheLastQuarterHourAndCountsTrouble() {
    receiver.on("/overview-ok", n -> Answer.status(200));
    receiver.on("/overview-broken", n -> Answer.status(400));
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/overview-ok") + "\",\"event_types\":[\"ok.*\"]}");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/overview-broken") + "\",\"event_types\":[\"bad.*\"]}");
    String good = ingest("o-1", "{\"type\":\"ok.one\",\"payload\":{}}");
    String bad = ingest("o-2", "{\"type\":\"bad.one\",\"payload\":{}}");
    Await.until("both settled in the read model", PATIENCE, () -> api.listIds(tenant.apiKey(), "DELIVERED").contains(good)
        && api.listIds(tenant.apiKey(), "DEAD_LETTERED").contains(bad));
    signedIn(tenant.apiKey());

    browser.get(base + "/#/overview");

    waitForText(By.cssSelector("#success-rate .value"), "50%");
    waitForText(By.cssSelector("#dead-letters .value"), "1");
    waitForText(By.cssSelector("#endpoint-trouble .value"), "1 / 0 / 0");
    // The delivered line rises off the baseline somewhere: the delivery is in the chart.
    String points = browser.findElement(By.cssSelector("svg.chart polyline.delivered")).getAttribute("points");
    double baseline = java.util.Arrays.stream(points.split(" ")).mapToDouble(p -> Double.parseDouble(p.split(",")[1])).max().orElseThrow();
    double highest = java.util.Arrays.stream(points.split(" ")).mapToDouble(p -> Double.parseDouble(p.split(",")[1])).min().orElseThrow();
    assertTrue(highest < baseline, "a delivery in the chart: " + points);
    Browser.screenshot("console-overview");
  }

  /**
   * The newcomer's path: the admin key, a new tenant opened from the operator's view, an
   * endpoint made in the page, an event sent from the page that arrives, and a failed one
   * replayed until it is delivered.
   */
  @Test
  void theOperatorCreatesATenantOpensItAndTakesAnEventFromSendToReplay() {
    receiver.on("/journey", n -> Answer.status(n == 2 ? 400 : 200));
    signedIn(TestNode.ADMIN_KEY);
    waitForText(By.id("who"), "operator");
    String name = "journey-" + UUID.randomUUID();
    waitFor(By.name("tenant_name")).sendKeys(name);
    browser.findElement(By.xpath("//button[text()='Create tenant']")).click();
    assertTrue(waitFor(By.id("new-tenant-key")).getText().startsWith("zyv_"), "the new key, shown once");
    browser.findElement(By.xpath("//tr[td[text()='" + name + "']]//button[text()='Open']")).click();
    waitForText(By.id("who"), "Signed in as tenant " + name + " (portal, manage)");

    browser.get(base + "/#/endpoints");
    waitFor(By.cssSelector(".endpoint-form input[name=url]")).sendKeys(receiver.url("/journey"));
    browser.findElement(By.cssSelector(".endpoint-form button[type=submit]")).click();
    waitFor(By.id("created-endpoint"));

    String first = sendFromThePage("{\"n\": 1}");
    browser.get(base + "/#/events");
    waitForText(By.cssSelector("tr[data-event-id='" + first + "'] .status"), "DELIVERED");

    String second = sendFromThePage("{\"n\": 2}");
    browser.get(base + "/#/events/" + second);
    waitFor(By.cssSelector(".delivery .status[data-status='DEAD_LETTERED']"));
    browser.findElement(By.cssSelector(".delivery button.replay")).click();
    waitFor(By.cssSelector(".delivery .status[data-status='DELIVERED']"));
    assertEquals(3, receiver.requests("/journey").size());

    browser.findElement(By.id("back-to-operator")).click();
    waitForText(By.id("who"), "operator");
    waitFor(By.id("tenants"));
  }

  @Test
  void theOperatorSetsATenantsRetentionPeriodAndClearsItAgain() {
    signedIn(TestNode.ADMIN_KEY);
    waitForText(By.id("who"), "operator");
    String row = "tr[data-tenant-id='" + tenant.id() + "'] form.retention ";
    WebElement days = waitFor(By.cssSelector(row + "input[name=retention_period_days]"));
    assertEquals("", days.getAttribute("value"), "no period of its own yet");

    days.sendKeys("45");
    browser.findElement(By.cssSelector(row + "button[type=submit]")).click();
    waitForText(By.cssSelector("#view [role=status]"), "45 days");
    assertEquals(45, api.get("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY).json().get("retention_period_days").asInt());

    days.clear();
    browser.findElement(By.cssSelector(row + "button[type=submit]")).click();
    waitForText(By.cssSelector("#view [role=status]"), "the default period");
    assertTrue(api.get("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY).json().get("retention_period_days").isNull());
  }

  private String sendFromThePage(String payload) {
    browser.get(base + "/#/send");
    WebElement text = waitFor(By.cssSelector("textarea[name=payload]"));
    text.clear();
    text.sendKeys(payload);
    browser.findElement(By.cssSelector("#send-form button[type=submit]")).click();
    return waitFor(By.id("sent-event")).getText();
  }

  @Test
  void aReadOnlyPortalLinkShowsOnlyItsEndpointsAndCannotChangeAnything() {
    receiver.on("/portal-mine", n -> Answer.status(400));
    String mine = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/portal-mine") + "\",\"event_types\":[\"mine.*\"]}");
    String theirs = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/portal-theirs") + "\",\"event_types\":[\"theirs.*\"]}");
    String dead = ingest("p-1", "{\"type\":\"mine.one\",\"payload\":{}}");
    String hidden = ingest("p-2", "{\"type\":\"theirs.one\",\"payload\":{}}");
    Await.until("settled", PATIENCE, () -> api.listIds(tenant.apiKey(), "DEAD_LETTERED").contains(dead)
        && api.listIds(tenant.apiKey(), "DELIVERED").contains(hidden));
    Response session = api.postJson("/v1/portal-sessions", tenant.apiKey(),
        "{\"scope\":\"read\",\"endpoint_ids\":[\"" + mine + "\"]}");
    assertEquals(201, session.status(), session.body());
    String token = session.json().get("token").asText();

    browser.get(session.json().get("url").asText());

    waitForText(By.id("who"), "(portal, read, 1 endpoint(s))");
    assertFalse(browser.getCurrentUrl().contains("portal_token"), "the token left the address bar");
    waitFor(By.cssSelector("tr[data-event-id='" + dead + "']"));
    assertTrue(browser.findElements(By.cssSelector("tr[data-event-id='" + hidden + "']")).isEmpty());
    browser.get(base + "/#/endpoints");
    waitFor(By.cssSelector("tr[data-endpoint-id='" + mine + "']"));
    assertTrue(browser.findElements(By.cssSelector("tr[data-endpoint-id='" + theirs + "']")).isEmpty());
    assertTrue(browser.findElements(By.xpath("//button[text()='Edit' or text()='Delete']")).isEmpty(), "no Edit");
    assertTrue(browser.findElements(By.cssSelector(".endpoint-form")).isEmpty(), "no new endpoint");
    browser.get(base + "/#/events/" + dead);
    waitFor(By.cssSelector(".delivery .status[data-status='DEAD_LETTERED']"));
    assertTrue(browser.findElements(By.cssSelector("button.replay")).isEmpty(), "no Replay");
    // And the API itself refuses what the page does not offer.
    assertEquals(403, api.postJson("/v1/events/" + dead + "/replay", token, "{\"endpoint_id\":\"" + mine + "\"}").status());
    assertEquals(403, api.patchJson("/v1/endpoints/" + mine, token, "{\"description\":\"x\"}").status());
    assertEquals(1, receiver.requests("/portal-mine").size(), "nothing was sent again");
  }

  @Test
  void signingOutForgetsTheKey() {
    signedIn(tenant.apiKey());
    waitFor(By.id("events"));

    browser.findElement(By.id("sign-out")).click();

    waitFor(By.name("api_key"));
    assertEquals(null, ((JavascriptExecutor) browser).executeScript("return sessionStorage.getItem('zyven.key')"));
  }
}
