package io.zyven.app.http;

import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The console: one page at {@code GET /} and its files under {@code /console/}, all from
 * the jar. It speaks only the public {@code /v1} API, with the key the user signs in with.
 */
final class ConsoleRoutes extends AllDirectives {
  private final List<HttpHeader> headers;

  /** {@code frameAncestors}: who may put the console in a frame (the customer portal). */
  ConsoleRoutes(String frameAncestors) {
    this.headers =
        List.of(
            // No inline script or style, nothing from another origin: a payload that gets
            // past the page's own escaping still cannot run.
            RawHeader.create(
                "Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
                    + " connect-src 'self'; base-uri 'none'; form-action 'none';"
                    + " frame-ancestors " + frameAncestors),
            RawHeader.create("X-Content-Type-Options", "nosniff"),
            // Keys are never in URLs, but a portal token arrives in the fragment: keep every
            // URL out of Referer headers anyway.
            RawHeader.create("Referrer-Policy", "no-referrer"),
            RawHeader.create("Cache-Control", "no-cache"));
  }

  // Paths first, then the method: a method directive that matches any path would cancel the
  // 405 that another route's path gives to a wrong method.
  Route route() {
    return concat(
        pathSingleSlash(() -> get(() -> respondWithHeaders(headers, () -> getFromResource("console/index.html")))),
        pathPrefix("console", () -> get(() -> respondWithHeaders(headers, () -> getFromResourceDirectory("console")))));
  }
}
