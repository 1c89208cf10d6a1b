/**
 * A small structured logger: one line per entry on stderr, in one of three formats:
 *
 * - `json` (default): one JSON object per line, for log shippers;
 * - `journal`: the same JSON behind a syslog priority prefix (`<3>` for errors, `<4>` warnings,
 *   `<6>` info, `<7>` debug), chosen when stderr is the journal stream systemd names in
 *   `JOURNAL_STREAM`, so `journalctl -p err` shows only errors;
 * - `human`: `12:03:04.123 WARN  message key=value …` on a terminal (colour unless `NO_COLOR`).
 *
 * Fields whose names look like secrets are replaced by `[redacted]` and credentials in URLs are
 * stripped before anything is written, so a careless `log.info("connected", { password })`
 * cannot leak. An `Error` field carries its stack (redacted too), except typed Commodore errors,
 * which carry their code and hint instead.
 */
import { fstatSync } from "node:fs";
import { CommodoreError } from "./errors.ts";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** How lines are written; see the module comment. */
export type LogFormat = "json" | "journal" | "human";

/** syslog(3) priorities journald reads from a `<N>` line prefix. */
const SYSLOG_PRIORITY: Record<Exclude<LogLevel, "silent">, number> = {
  debug: 7,
  info: 6,
  warn: 4,
  error: 3,
};
/** ANSI colours of the human format, by level. */
const COLOUR: Record<Exclude<LogLevel, "silent">, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};
const RESET_COLOUR = "\x1b[0m";
/** Characters of a human-format time stamp (`HH:MM:SS.mmm` out of an ISO string). */
const CLOCK = { from: 11, to: 23 } as const;
/** Width the level is padded to in the human format. */
const LEVEL_WIDTH = 5;

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
  /** Line format (default `json`); {@link detectLogFormat} picks one for a process. */
  format?: LogFormat;
  /** Colour in the `human` format. */
  colour?: boolean;
}

/**
 * The format for a process writing to file descriptor `fd` (stderr): `journal` when systemd's
 * `JOURNAL_STREAM` (`device:inode`) names that very descriptor, `human` on a terminal, else
 * `json`.
 */
export function detectLogFormat(env: NodeJS.ProcessEnv, fd = 2, isTty = false): LogFormat {
  const journal = env["JOURNAL_STREAM"];
  if (journal !== undefined && journal !== "") {
    try {
      const st = fstatSync(fd);
      if (journal === `${st.dev}:${st.ino}`) return "journal";
    } catch {
      // not a descriptor we can inspect: not the journal
    }
  }
  return isTty ? "human" : "json";
}

/** Deep-copies a value with secret-looking fields redacted and credentials stripped from URLs. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactUrlCredentials(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[…]";
  if (value instanceof CommodoreError)
    return {
      name: value.name,
      code: value.code,
      message: redactUrlCredentials(value.message),
      ...(value.hint === undefined ? {} : { hint: value.hint }),
    };
  if (value instanceof Error)
    return {
      name: value.name,
      message: redactUrlCredentials(value.message),
      ...(value.stack === undefined ? {} : { stack: redactUrlCredentials(value.stack) }),
    };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** Characters of a URL scheme after its first letter. */
const SCHEME_CHAR = /[a-z0-9+.-]/i;
const LETTER = /[a-z]/i;
/** Characters that end the word a URL is in. */
const WORD_END = /[\s"'<>]/;
const SCHEME_SEPARATOR = "://";

/**
 * Replaces `user:password@` in any URL inside `text` with `***@`: a URL's scheme and
 * everything up to the last `@` of the same word are the credentials, even when a password
 * holds a raw `@` or `/` that should have been percent-encoded (a URL whose path holds an `@`
 * loses more than its credentials, which is the safe side to err on).
 *
 * One pass over `text` (what `/([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>]*@/gi` would replace, without
 * its quadratic backtracking on a long run of letters: log fields carry hostnames and other
 * text an attacker chooses, and a 100 000-character one took seconds).
 */
export function redactUrlCredentials(text: string): string {
  let from = text.indexOf(SCHEME_SEPARATOR);
  if (from < 0) return text;
  let out = "";
  let copied = 0;
  while (from >= 0) {
    let start = from;
    while (start > copied && SCHEME_CHAR.test(text[start - 1] ?? "")) start--;
    while (start < from && !LETTER.test(text[start] ?? "")) start++;
    let end = from + SCHEME_SEPARATOR.length;
    if (start === from) {
      from = text.indexOf(SCHEME_SEPARATOR, end);
      continue;
    }
    let at = -1;
    while (end < text.length && !WORD_END.test(text[end] ?? "")) {
      if (text[end] === "@") at = end;
      end++;
    }
    if (at >= 0) {
      out += `${text.slice(copied, from + SCHEME_SEPARATOR.length)}***`;
      copied = at;
    }
    from = text.indexOf(SCHEME_SEPARATOR, end);
  }
  return out + text.slice(copied);
}

function humanValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** `12:03:04.123 WARN  message key=value …`, stacks on their own lines. */
function humanLine(entry: Record<string, unknown>, colour: boolean): string {
  const { time, level, msg, ...fields } = entry as {
    time: string;
    level: Exclude<LogLevel, "silent">;
    msg: string;
  } & Record<string, unknown>;
  const stacks: string[] = [];
  const pairs = Object.entries(fields).map(([k, v]) => {
    const stack = (v as { stack?: unknown } | null)?.stack;
    if (typeof stack === "string") stacks.push(stack);
    return `${k}=${humanValue(v)}`;
  });
  const tag = level.toUpperCase().padEnd(LEVEL_WIDTH);
  const head = `${time.slice(CLOCK.from, CLOCK.to)} ${colour ? `${COLOUR[level]}${tag}${RESET_COLOUR}` : tag} ${msg}`;
  return [[head, ...pairs].join(" "), ...stacks.map((st) => `  ${st.replace(/\n/g, "\n  ")}`)].join(
    "\n",
  );
}

/** Creates a logger writing lines in `options.format`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const sink: LogSink = options.sink ?? ((line) => process.stderr.write(line + "\n"));
  const base = options.fields ?? {};
  const format = options.format ?? "json";
  const colour = options.colour ?? false;
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
    if (format === "human") sink(humanLine(entry, colour));
    else if (format === "journal") sink(`<${SYSLOG_PRIORITY[lvl]}>${JSON.stringify(entry)}`);
    else sink(JSON.stringify(entry));
  };
  return {
    level,
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) =>
      createLogger({ level, sink, format, colour, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ level: "silent" });
