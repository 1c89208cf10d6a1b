/**
 * A small structured logger: one JSON object per line on stderr.
 *
 * Fields whose names look like secrets are replaced by `[redacted]` before anything is
 * written, so a careless `log.info("connected", { password })` cannot leak.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const LEVEL_ORDER: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 99,
};
const SECRET_FIELD =
  /pass(word)?|secret|token|authorization|private|credential|^key$|host_config_key/i;
const REDACTED = "[redacted]";
const MAX_DEPTH = 4;

/** Where log lines go; tests pass an array-backed sink. */
export type LogSink = (line: string) => void;

/** Logger interface used throughout; `child` adds fixed fields. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  readonly level: LogLevel;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  sink?: LogSink;
  fields?: Record<string, unknown>;
}

/** Deep-copies a value with secret-looking fields redacted and credentials stripped from URLs. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactUrlCredentials(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[…]";
  if (value instanceof Error)
    return { name: value.name, message: redactUrlCredentials(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/**
 * A URL's scheme and everything up to the last `@` of the same word: the credentials, even
 * when a password holds a raw `@` or `/` that should have been percent-encoded (a URL whose
 * path holds an `@` loses more than its credentials, which is the safe side to err on).
 */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>]*@/gi;

/** Replaces `user:password@` in any URL inside `text` with `***@`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, "$1***@");
}

/** Creates a logger writing JSON lines. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const sink: LogSink = options.sink ?? ((line) => process.stderr.write(line + "\n"));
  const base = options.fields ?? {};
  const threshold = LEVEL_ORDER[level];
  const write = (
    lvl: Exclude<LogLevel, "silent">,
    msg: string,
    fields?: Record<string, unknown>,
  ) => {
    if (LEVEL_ORDER[lvl] < threshold) return;
    const entry = {
      time: new Date().toISOString(),
      level: lvl,
      msg,
      ...(redact({ ...base, ...fields }) as object),
    };
    sink(JSON.stringify(entry));
  };
  return {
    level,
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ level, sink, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ level: "silent" });
