package io.zyven.app.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import java.util.Set;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /openapi.json} (the spec, a committed resource) and {@code GET /docs} (Swagger UI
 * on it). Both are open. Swagger UI's files come from its WebJar on the classpath, through the
 * node: the page loads nothing from other hosts.
 */
final class DocsRoutes extends AllDirectives {
  private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/" + webjarVersion() + "/";
  private static final Set<String> SWAGGER_UI_FILES = Set.of("swagger-ui.css", "swagger-ui-bundle.js");

  Route route() {
    return concat(
        path("openapi.json", () -> get(() -> getFromResource("openapi/openapi.json"))),
        path("docs", () -> get(() -> getFromResource("openapi/docs.html"))),
        path(PathMatchers.segment("docs").slash("init.js"), () -> get(() -> getFromResource("openapi/docs-init.js"))),
        path(
            PathMatchers.segment("docs").slash(PathMatchers.segment()),
            file -> get(() -> SWAGGER_UI_FILES.contains(file) ? getFromResource(WEBJAR + file) : reject())));
  }

  /** The WebJar's version is part of its paths; read it from the jar, so that the pom alone sets it. */
  private static String webjarVersion() {
    try (InputStream in =
        DocsRoutes.class.getClassLoader().getResourceAsStream("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
      if (in == null) throw new IllegalStateException("the swagger-ui WebJar is not on the classpath");
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
