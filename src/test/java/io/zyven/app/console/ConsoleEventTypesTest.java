package io.zyven.app.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
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

/** The console's Event types page in a real headless Chromium, against a real node. */
@ExtendWith(Browser.class)
class ConsoleEventTypesTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);
  private static final String HOSTILE = "<img src=x onerror=alert(1)>";

  private static TestNode node;
  private static ApiClient api;
  private static WebDriver browser;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(TestPostgres.shared(), Map.of());
    api = node.api;
    base = "http://127.0.0.1:" + node.zyven().httpPort();
    browser = Browser.driver();
  }

  @AfterAll
  static void stop() throws Exception {
    Browser.quit();
    node.close();
  }

  private void signIn(String key) {
    Browser.signInFresh(base, key, PATIENCE);
  }

  private WebElement waitFor(By by) {
    return new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  private void waitForText(By by, String text) {
    new WebDriverWait(browser, PATIENCE).until(ExpectedConditions.textToBePresentInElementLocated(by, text));
  }

  private static void type(WebElement field, String text) {
    field.clear();
    field.sendKeys(text);
  }

  @Test
  void aTypeIsCreatedWithItsSchemaShownAsTextArchivedAndABadExampleNamesItsPointer() {
    Tenant tenant = api.createTenant("console-types-" + UUID.randomUUID());
    signIn(tenant.apiKey());
    waitFor(By.linkText("Event types")).click();
    WebElement form = waitFor(By.cssSelector("form.event-type-form"));

    // A bad example: refused, and each violation is listed with its pointer.
    type(form.findElement(By.name("name")), "order.created");
    type(form.findElement(By.name("description")), HOSTILE);
    type(form.findElement(By.name("schema")),
        "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"string\"},\"note\":{\"type\":\"string\"}}}");
    type(form.findElement(By.name("example")), "{\"note\":5}");
    form.findElement(By.cssSelector("button[type=submit]")).click();
    waitForText(By.cssSelector("form.event-type-form .violations"), "/id");
    String violations = browser.findElement(By.cssSelector("form.event-type-form .violations")).getText();
    assertTrue(violations.contains("/note"), violations);
    assertEquals(404, api.get("/v1/event-types/order.created", tenant.apiKey()).status(), "nothing saved");

    // A good one: created, listed, its hostile description shown as text.
    type(form.findElement(By.name("example")), "{\"id\":\"ord_1\",\"note\":\"" + HOSTILE + "\"}");
    form.findElement(By.cssSelector("button[type=submit]")).click();
    waitForText(By.id("created-type"), "order.created");
    WebElement row = waitFor(By.cssSelector("tr.event-type[data-name='order.created']"));
    assertTrue(row.getText().contains(HOSTILE), row.getText());
    assertTrue(browser.findElements(By.cssSelector("#view img")).isEmpty(), "no markup from the server ran");

    // Its page shows the schema and the example as text, and its history.
    row.findElement(By.linkText("order.created")).click();
    waitForText(By.id("type-name"), "order.created");
    assertTrue(waitFor(By.id("type-schema")).getText().contains("\"required\""));
    assertTrue(browser.findElement(By.id("type-example")).getText().contains(HOSTILE));
    assertTrue(browser.findElements(By.cssSelector("#view img")).isEmpty(), "no markup from the server ran");
    waitForText(By.id("type-audit"), "created");

    // Archived from its page.
    browser.findElement(By.cssSelector("#event-type button.archive")).click();
    waitForText(By.id("type-name"), "order.created");
    new WebDriverWait(browser, PATIENCE).until(d -> api.get("/v1/event-types/order.created", tenant.apiKey())
        .json().get("archived").asBoolean());
    waitForText(By.id("type-audit"), "archived");

    // The setting, from the list.
    waitFor(By.linkText("Event types")).click();
    WebElement require = waitFor(By.id("require-registered"));
    assertFalse(require.isSelected());
    require.click();
    waitForText(By.cssSelector("#view [role=status]"), "now refused");
    assertTrue(api.get("/v1/event-type-settings", tenant.apiKey()).json().get("require_registered_types").asBoolean());
  }

  @Test
  void aReadKeySeesTheCatalogueButNoFormsOrButtons() {
    Tenant tenant = api.createTenant("console-types-read-" + UUID.randomUUID());
    Response created = api.postJson("/v1/event-types", tenant.apiKey(),
        "{\"name\":\"user.created\",\"description\":\"a user\",\"schema\":{\"type\":\"object\"}}");
    assertEquals(201, created.status(), created.body());
    String read = api.postJson("/v1/api-keys", tenant.apiKey(), "{\"name\":\"r\",\"scopes\":[\"read\"]}").json().get("key").asText();
    signIn(read);
    waitFor(By.linkText("Event types")).click();
    waitFor(By.cssSelector("tr.event-type[data-name='user.created']"));
    assertEquals(List.of(), browser.findElements(By.cssSelector("form.event-type-form")));
    assertEquals(List.of(), browser.findElements(By.cssSelector("button.archive")));
    assertFalse(browser.findElement(By.id("require-registered")).isEnabled());
    browser.findElement(By.linkText("user.created")).click();
    waitForText(By.id("type-schema"), "object");
    assertEquals(List.of(), browser.findElements(By.cssSelector("form.event-type-form")));
  }
}
