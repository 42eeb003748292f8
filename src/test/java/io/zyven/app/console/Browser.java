package io.zyven.app.console;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}), with
 * the flags that keep it off the network it must not reach. A test that fails leaves a
 * screenshot in {@code target/console-screenshots/}.
 */
final class Browser implements TestWatcher {
  static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

  private static WebDriver driver;

  static synchronized WebDriver driver() throws IOException {
    if (driver != null) return driver;
    ChromeOptions options = new ChromeOptions();
    options.setBinary(System.getProperty("zyven.chromium", "/usr/bin/chromium"));
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1300,900", "--user-data-dir=" + Files.createTempDirectory("zyven-chromium"));
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(Path.of(System.getProperty("zyven.chromedriver", "/usr/bin/chromedriver")).toFile())
            .build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
    return driver;
  }

  /**
   * Opens the console at {@code base} with no session left from an earlier test, signs in
   * with {@code key}, and waits until the page says who is signed in.
   */
  static void signInFresh(String base, String key, Duration patience) {
    driver.get(base + "/");
    ((JavascriptExecutor) driver).executeScript("sessionStorage.clear()");
    driver.navigate().refresh();
    WebElement input = new WebDriverWait(driver, patience)
        .until(ExpectedConditions.visibilityOfElementLocated(By.name("api_key")));
    input.sendKeys(key);
    input.submit();
    new WebDriverWait(driver, patience).until(
        ExpectedConditions.textToBePresentInElementLocated(By.id("who"), "Signed in as"));
  }

  static synchronized void quit() {
    if (driver != null) driver.quit();
    driver = null;
  }

  static void screenshot(String name) {
    if (driver == null) return;
    try {
      Files.createDirectories(SCREENSHOTS);
      Files.write(SCREENSHOTS.resolve(name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    } catch (IOException | RuntimeException e) {
      System.err.println("no screenshot: " + e);
    }
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    screenshot("FAILED-" + context.getRequiredTestClass().getSimpleName() + "-" + context.getRequiredTestMethod().getName());
  }
}
