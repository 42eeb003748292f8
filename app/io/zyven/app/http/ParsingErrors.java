package io.zyven.app.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * The answer for a request the server could not even parse (headers too large or too many,
 * a URI too long, a malformed request line): Pekko HTTP answers these before any route runs,
 * in plain text by default. Named by {@code pekko.http.server.parsing.error-handler}.
 */
public final class ParsingErrors extends ParsingErrorHandler {
  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    // The summary names the limit that was passed; the detail may quote the request, so it stays out.
    log.debug("Request refused while parsing: {} {}", status.intValue(), info.summary());
    // Pekko says 501 for a method it does not know ("NOT A REQUEST"): that is the request's
    // fault all the same, and input never gets a 5xx here.
    if (status.intValue() >= 500) return Problems.forStatus(400, "Bad Request", info.summary());
    return Problems.forStatus(status.intValue(), status.reason(), info.summary());
  }
}
