/**
 * Redis connections with an explicit life cycle.
 *
 * Every connection reconnects with capped, jittered exponential backoff, names itself to the
 * server (`CLIENT SETNAME`), resubscribes after a reconnect and logs state changes without
 * ever printing the password from the URL.
 */
import { Redis, type RedisOptions } from "ioredis";
import { backoffDelay, type BackoffBounds } from "./backoff.ts";
import type { RedisClient } from "./redis/client.ts";
import { OptionsError } from "./errors.ts";
import { redactUrlCredentials, type Logger } from "./log.ts";

/** Reconnect delays of every Redis connection: from 100 ms, doubling, at most 5 s, jittered. */
export const REDIS_RECONNECT: BackoffBounds = { baseMs: 100, capMs: 5_000 };
/** How long one command may wait in the offline queue before failing. */
export const COMMAND_TIMEOUT_MS = 10_000;

/** Options for {@link connectRedis}. */
export interface RedisConnectOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Connection name shown by `CLIENT LIST`, e.g. `commodore-agent-www01`. */
  name: string;
  logger: Logger;
  /** Extra TLS settings for `rediss://` (CA file contents etc.). */
  tls?: RedisOptions["tls"];
}

/** How to write a password holding URL delimiters. */
export const PERCENT_ENCODE_HINT =
  "the password percent-encoded (@ as %40, / as %2F, : as %3A, % as %25)";

/** `unix://[user[:password]@]/absolute/path.sock`; credentials run to the last `@`. */
const UNIX_URL = /^unix:\/\/(?:(.*)@)?(\/[^?#\s]*)$/;

/** A single server reached over a unix socket. */
export interface UnixSocketTarget {
  readonly path: string;
  readonly username?: string;
  readonly password?: string;
}

/**
 * Parses a `unix://` Redis URL (the embedded server listens on a socket in the state
 * directory); undefined for any other scheme.
 */
export function parseUnixUrl(url: string): UnixSocketTarget | undefined {
  if (!url.startsWith("unix:")) return undefined;
  const m = UNIX_URL.exec(url);
  if (!m?.[2])
    throw new OptionsError(
      `redis.url is not a valid unix socket URL: ${redactUrlCredentials(url)}`,
      `use unix:///absolute/path/redis.sock or unix://user:password@/absolute/path/redis.sock, with ${PERCENT_ENCODE_HINT}`,
    );
  const creds = m[1] ?? "";
  const colon = creds.indexOf(":");
  const [user, pass] = colon < 0 ? [creds, ""] : [creds.slice(0, colon), creds.slice(colon + 1)];
  try {
    return {
      path: m[2],
      ...(user === "" ? {} : { username: decodeURIComponent(user) }),
      ...(pass === "" ? {} : { password: decodeURIComponent(pass) }),
    };
  } catch {
    throw new OptionsError(
      `redis.url ${redactUrlCredentials(url)}: the credentials are not valid percent-encoding`,
      `write ${PERCENT_ENCODE_HINT}`,
    );
  }
}

/** Validates a Redis URL, throwing an error that names the option to change. */
export function parseRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OptionsError(
      `redis.url is not a valid URL: ${redactUrlCredentials(url)}`,
      url.includes("@")
        ? `use redis://user:password@host:port, with ${PERCENT_ENCODE_HINT} (set REDIS_URL or redis.url)`
        : "use redis://host:port or rediss://host:port for TLS (set REDIS_URL or redis.url)",
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new OptionsError(
      `redis.url must use redis://, rediss:// or unix://, got ${parsed.protocol}//`,
      "set REDIS_URL or redis.url to redis://host:port or unix:///path/redis.sock",
    );
  }
  return parsed;
}

/**
 * Opens a Redis connection. The returned client is connecting; await `ready` before use when
 * the caller needs a definite answer (CLI commands do, long-running services do not).
 */
export function connectRedis(options: RedisConnectOptions): Redis {
  const socket = parseUnixUrl(options.url);
  const parsed = socket === undefined ? parseRedisUrl(options.url) : undefined;
  const safeUrl = redactUrlCredentials(options.url);
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    lazyConnect: false,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    autoResubscribe: true,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => backoffDelay(attempt, REDIS_RECONNECT),
  };
  if (parsed?.protocol === "rediss:") redisOptions.tls = options.tls ?? {};
  const client =
    socket === undefined
      ? new Redis(options.url, redisOptions)
      : new Redis({ ...redisOptions, ...socket });
  const log = logConnectionStates(client, options.logger, safeUrl, options.name);
  client.on("reconnecting", (delay: number) => log.debug("redis reconnecting", { delayMs: delay }));
  return client;
}

/**
 * Logs a connection's life: `redis connected` (debug), `redis reconnected` (info) and errors
 * (warn, credentials redacted). Returns the connection's logger.
 */
export function logConnectionStates(
  client: RedisClient,
  logger: Logger,
  where: string,
  name: string,
): Logger {
  const log = logger.child({ redis: where, connection: name });
  let wasReady = false;
  client.on("ready", () => {
    log[wasReady ? "info" : "debug"](wasReady ? "redis reconnected" : "redis connected");
    wasReady = true;
  });
  client.on("error", (err: Error) =>
    log.warn("redis error", { error: redactUrlCredentials(err.message) }),
  );
  return log;
}

/** Server answers that mean the credentials are wrong or too weak: waiting will not help. */
const AUTH_REFUSAL = /^(WRONGPASS|NOAUTH|NOPERM)\b/;

/**
 * Resolves once the client is ready, or rejects with an actionable error: at once when the
 * server refuses the credentials, after `timeoutMs` when it cannot be reached.
 */
export async function waitReady(
  client: RedisClient,
  url: string,
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<void> {
  if (client.status === "ready") return;
  const where = redactUrlCredentials(url);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new OptionsError(
          `could not reach Redis at ${where} within ${timeoutMs} ms`,
          "check that redis-server is running and that REDIS_URL / redis.url points at it",
        ),
      );
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      const refusal = AUTH_REFUSAL.exec(err.message)?.[1];
      if (refusal === undefined) return;
      cleanup();
      reject(
        new OptionsError(
          `Redis at ${where} refused the login (${refusal})`,
          `check the user and password in REDIS_URL / redis.url (${PERCENT_ENCODE_HINT}) and the server's ACL`,
        ),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off("ready", onReady);
      client.off("error", onError);
    };
    client.on("ready", onReady);
    client.on("error", onError);
  });
}

/** How long a polite QUIT may take before the connection is simply dropped. */
const QUIT_TIMEOUT_MS = 1_000;

/** Closes a client politely, falling back to disconnect when the server is gone. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === "end") return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((r) => {
        timer = setTimeout(r, QUIT_TIMEOUT_MS);
      }),
    ]);
  } catch {
    // The server is already gone; disconnect below finishes the job.
  } finally {
    // A timer left running would keep a finished CLI process alive for its whole length.
    clearTimeout(timer);
  }
  client.disconnect(false);
}
