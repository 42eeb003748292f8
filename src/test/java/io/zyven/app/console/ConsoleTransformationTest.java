package io.zyven.app.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The endpoint form's transformation in a real headless browser: the saved source is
 * shown, the preview runs what is in the form (saved or not) and shows the result and the
 * script's errors as text, and saving stores the edited source.
 */
@ExtendWith(Browser.class)
class ConsoleTransformationTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  private static WebDriver browser;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(TestPostgres.shared(), Map.of());
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

  @Test
  void thePreviewShowsWhatTheFormsTransformationWouldSendAsTextAndSavingStoresIt() {
    Tenant tenant = api.createTenant("console-transform-" + UUID.randomUUID());
    String saved = "function handler(w) { w.payload = {note: w.payload.note, type: w.type}; w.headers['X-Kind'] = 'saved'; return w; }";
    Response created = api.postJson("/v1/endpoints", tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/t") + "\",\"transformation\":" + ApiClient.JSON.valueToTree(saved) + "}");
    assertEquals(201, created.status(), created.body());
    String id = created.json().get("id").asText();

    Browser.signInFresh(base, tenant.apiKey(), PATIENCE);
    browser.get(base + "/#/endpoints");
    waitFor(By.xpath("//tr[@data-endpoint-id='" + id + "']//button[text()='Edit']")).click();

    WebElement source = waitFor(By.cssSelector("textarea[name=transformation]"));
    assertEquals(saved, source.getAttribute("value"));
    WebElement payload = browser.findElement(By.cssSelector("textarea[name=preview_payload]"));
    payload.clear();
    // A stranger's payload: it must come back as text, never as markup.
    payload.sendKeys("{\"note\":\"<img src=x onerror=\\\"document.title='pwned'\\\">\"}");
    WebElement type = browser.findElement(By.cssSelector("input[name=preview_type]"));
    type.clear();
    type.sendKeys("order.paid");
    browser.findElement(By.xpath("//button[text()='Preview']")).click();
    WebElement result = browser.findElement(By.cssSelector(".preview-result"));
    new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.textToBePresentInElement(result, "\"type\": \"order.paid\""));
    assertTrue(result.getText().contains("<img src=x onerror="), result.getText());
    assertTrue(result.getText().contains("\"X-Kind\": \"saved\""), result.getText());
    assertTrue(result.findElements(By.tagName("img")).isEmpty(), "shown as text");
    assertTrue(!"pwned".equals(browser.getTitle()));

    // What is in the form previews, saved or not: here a script that throws.
    source.clear();
    source.sendKeys("function handler(w) { throw new Error('not today'); }");
    browser.findElement(By.xpath("//button[text()='Preview']")).click();
    new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.textToBePresentInElement(result, "not today"));
    assertEquals("Invalid transformation: transformation threw Error: not today (line 1)", result.getText());
    assertEquals(saved, api.get("/v1/endpoints/" + id, tenant.apiKey()).json().get("transformation").asText(),
        "a preview saves nothing");

    // A cancel previews as such, and Save stores the edited source.
    source.clear();
    source.sendKeys("function handler(w) { w.cancel = true; return w; }");
    browser.findElement(By.xpath("//button[text()='Preview']")).click();
    new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.textToBePresentInElement(result, "Cancelled"));
    browser.findElement(By.cssSelector(".endpoint-form button[type=submit]")).click();
    new WebDriverWait(browser, PATIENCE).until(d -> "function handler(w) { w.cancel = true; return w; }".equals(
        api.get("/v1/endpoints/" + id, tenant.apiKey()).json().get("transformation").asText()));
  }

  private WebElement waitFor(By by) {
    return new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.visibilityOfElementLocated(by));
  }
}
