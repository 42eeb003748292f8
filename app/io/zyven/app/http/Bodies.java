package io.zyven.app.http;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import java.util.Locale;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/** Reads a request body whole, answering 413 past the limit and 400 when it breaks off. */
final class Bodies {
  private Bodies() {}

  /** application/json or any application/*+json type, on every route that takes a body. */
  static boolean isJson(ContentType contentType) {
    String media = contentType.mediaType().toString().toLowerCase(Locale.ROOT);
    return media.equals("application/json") || (media.startsWith("application/") && media.endsWith("+json"));
  }

  /** The body of a route that takes JSON: 415 for any other content type, else {@link #read}. */
  static CompletionStage<byte[]> json(
      HttpEntity entity, long maxBytes, Duration timeout, ClassicActorSystemProvider system, Executor ec) {
    if (!isJson(entity.getContentType())) {
      entity.discardBytes(system);
      throw Problems.unsupportedMediaType();
    }
    return read(entity, maxBytes, timeout, system, ec);
  }

  static CompletionStage<byte[]> read(
      HttpEntity entity, long maxBytes, Duration timeout, ClassicActorSystemProvider system, Executor ec) {
    // A declared oversize is refused, but only once it has been read and dropped (up to the
    // server's own parsing limit): answering in the middle of an upload makes many clients
    // see a reset connection instead of the 413.
    if (entity.getContentLengthOption().orElse(0) > maxBytes) {
      return entity
          .discardBytes(system)
          .completionStage()
          .<byte[]>handleAsync(
              // Dropping it fails too past the server's own limit; 413 all the same.
              (done, error) -> {
                throw Problems.tooLarge(maxBytes);
              },
              ec);
    }
    return entity
        .withSizeLimit(maxBytes)
        .toStrict(timeout.toMillis(), system)
        .handleAsync(
            (strict, error) -> {
              if (error == null) return strict.getData().toArray();
              for (Throwable t = error; t != null; t = t.getCause()) {
                if (t instanceof EntityStreamSizeException) throw Problems.tooLarge(maxBytes);
              }
              throw Problems.badRequest("the body could not be read");
            },
            ec);
  }
}
