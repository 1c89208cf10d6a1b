/**
 * Serves an HTTP app on a listen address: Node's HTTP/1.1 server with @hono/node-server's
 * request listener, within explicit header and time limits.
 *
 * Every error answer has the JSON error shape, including the ones Node's parser gives before
 * any route runs: a request whose line and headers exceed {@link MAX_HEADER_BYTES} gets 431
 * `E_HEADERS_TOO_LARGE`, one that does not parse 400 `E_MALFORMED_REQUEST`, one that does not
 * arrive within {@link HEADERS_TIMEOUT_MS} / {@link REQUEST_TIMEOUT_MS} 408
 * `E_REQUEST_TIMEOUT`, each with `Connection: close`. Those answers never repeat anything the
 * client sent (a 100 KB `Authorization` header is not echoed, not even in part).
 */
import { getRequestListener, RequestError } from "@hono/node-server";
import { createServer, STATUS_CODES, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { CommodoreError, errorMessage } from "../../lib/errors.ts";
import type { ErrorCode } from "../../lib/error-codes.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { Counter, MetricsRegistry } from "../../lib/metrics.ts";
import type { ListenAddress } from "../../config/schema.ts";
import type { HttpApp } from "./context.ts";
import { errorBody, statusForCode } from "./errors.ts";

/** Largest request line plus headers, in bytes (Node's default, stated so it cannot drift). */
export const MAX_HEADER_BYTES = 16_384;
/** Longest the request line and headers may take to arrive. */
export const HEADERS_TIMEOUT_MS = 60_000;
/** Longest a whole request (headers and body) may take to arrive before it gets 408. */
export const REQUEST_TIMEOUT_MS = 120_000;
/** How long an idle keep-alive connection stays open between requests. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node checks open connections against the two request timeouts. */
export const TIMEOUT_CHECK_INTERVAL_MS = 30_000;
/** Longest the server waits for open connections when closing. */
const CLOSE_GRACE_MS = 2_000;
/** How long a socket that got a client-error answer may stay half-open to read it. */
const CLIENT_ERROR_LINGER_MS = 1_000;
/** The counter every HTTP refusal is counted in (also created by the app). */
const REJECTED_METRIC = "commodore_http_rejected_total";

/** A listening server. */
export interface HttpServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/** Where the server reports what it refuses before the app sees a request, and its limits. */
export interface HttpServerOptions {
  /** Gets a debug line per refused connection (code, status, remote address; no contents). */
  readonly logger?: Logger;
  /** Counts refusals in `commodore_http_rejected_total{reason}`. */
  readonly metrics?: MetricsRegistry;
  /** Default {@link HEADERS_TIMEOUT_MS}; at most `requestTimeoutMs`. */
  readonly headersTimeoutMs?: number;
  /** Default {@link REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs?: number;
  /** Default {@link TIMEOUT_CHECK_INTERVAL_MS}. */
  readonly timeoutCheckIntervalMs?: number;
}

/** What `createHttpApp` registered for its app, so callers of startHttpServer need not repeat it. */
const registered = new WeakMap<HttpApp, HttpServerOptions>();

/**
 * Records the logger and metrics the server of `app` reports to (called by `createHttpApp`);
 * options given to {@link startHttpServer} override them.
 */
export function registerServerOptions(app: HttpApp, options: HttpServerOptions): void {
  registered.set(app, options);
}

/** How one kind of client error is answered and counted. */
interface ClientErrorAnswer {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly message: string;
}

const HEADERS_TOO_LARGE: ClientErrorAnswer = {
  code: "E_HEADERS_TOO_LARGE",
  reason: "headers_too_large",
  message: `the request line and headers exceed ${MAX_HEADER_BYTES} bytes`,
};
const MALFORMED: ClientErrorAnswer = {
  code: "E_MALFORMED_REQUEST",
  reason: "malformed_request",
  message: "the request is not valid HTTP/1.1",
};
const TIMED_OUT: ClientErrorAnswer = {
  code: "E_REQUEST_TIMEOUT",
  reason: "request_timeout",
  message: "the request did not arrive in time",
};
const BAD_TARGET: ClientErrorAnswer = {
  code: "E_MALFORMED_REQUEST",
  reason: "malformed_request",
  message: "the request target or Host header is not a valid URL",
};

/** The answer for a Node client error code, or undefined when the socket is just closed. */
function answerFor(code: string | undefined): ClientErrorAnswer | undefined {
  if (code === "HPE_HEADER_OVERFLOW") return HEADERS_TOO_LARGE;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return TIMED_OUT;
  if (code?.startsWith("HPE_") === true) return MALFORMED;
  return undefined;
}

/** A whole HTTP/1.1 response with a JSON error body that closes the connection. */
export function rawErrorResponse(code: ErrorCode, message: string): string {
  const status = statusForCode(code);
  const body = JSON.stringify(errorBody(code, message));
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "Content-Type: application/json; charset=UTF-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Cache-Control: no-store",
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

/** A fetch Response with a JSON error body, for errors answered outside the app. */
function jsonErrorResponse(code: ErrorCode, message: string): Response {
  return new Response(JSON.stringify(errorBody(code, message)), {
    status: statusForCode(code),
    headers: { "Content-Type": "application/json; charset=UTF-8", "Cache-Control": "no-store" },
  });
}

/**
 * The server's `clientError` listener: answers in the JSON shape and closes the connection.
 * A response of this connection that is still being written (pipelined requests) finishes
 * first, so the error never lands inside or ahead of it; a socket no longer writable is just
 * destroyed.
 */
function clientErrorHandler(logger: Logger, rejected: Counter | undefined) {
  const answered = new WeakSet<Socket>();
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    // Node's parser reports again for every further chunk the client sends; answer once.
    if (answered.has(socket)) return;
    answered.add(socket);
    const answer = answerFor(err.code);
    if (answer === undefined) {
      socket.destroy();
      return;
    }
    rejected?.inc({ reason: answer.reason });
    logger.debug("http request refused before routing", {
      code: err.code,
      status: statusForCode(answer.code),
      remote: socket.remoteAddress,
    });
    const reply = () => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      // end, not destroy: closing with unread input resets the connection, and the client
      // could lose the answer; the timer bounds how long a client that keeps sending is read.
      socket.end(rawErrorResponse(answer.code, answer.message));
      setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
    };
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight && !inFlight.writableFinished) inFlight.once("finish", reply);
    else reply();
  };
}

/** Starts listening; rejects with a clear error when the address is taken. */
export async function startHttpServer(
  app: HttpApp,
  listen: ListenAddress,
  options: HttpServerOptions = registered.get(app) ?? {},
): Promise<HttpServer> {
  const logger = options.logger ?? silentLogger;
  const rejected = options.metrics?.counter(REJECTED_METRIC, "HTTP requests rejected, by reason");
  const listener = getRequestListener(app.fetch, {
    hostname: listen.host,
    // Requests Node parsed but @hono/node-server cannot turn into a URL (a backslash in the
    // path, a Host that is not a host); the app's own errors are answered by its onError.
    errorHandler: (err) => {
      if (err instanceof RequestError) {
        rejected?.inc({ reason: BAD_TARGET.reason });
        return jsonErrorResponse(BAD_TARGET.code, BAD_TARGET.message);
      }
      logger.error("http request failed outside the app", { error: errorMessage(err) });
      return jsonErrorResponse("E_INTERNAL", "internal error; the server log has the details");
    },
  });
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const server: Server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout,
      headersTimeout: Math.min(options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS, requestTimeout),
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: options.timeoutCheckIntervalMs ?? TIMEOUT_CHECK_INTERVAL_MS,
    },
    listener,
  );
  server.on("clientError", clientErrorHandler(logger, rejected));
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(
        new CommodoreError(
          "E_LISTEN",
          `cannot listen on ${listen.host}:${listen.port}: ${err.code ?? err.message}`,
          {
            hint: "set http.listen, COMMODORE_HTTP_LISTEN or PORT to a free address",
          },
        ),
      );
    server.once("error", failed);
    server.listen(listen.port, listen.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: listen.host,
    async close() {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
