/**
 * OpenSSH `allowed_signers` files (ssh-keygen(1) "ALLOWED SIGNERS"): lines of
 * `principals [options] keytype base64key`, parsed once into a lookup by key blob.
 * Supported options: `namespaces="pattern,…"`, `valid-after=`, `valid-before=`;
 * `cert-authority` lines are rejected with a clear error because Commodore verifies plain keys.
 * Files are bounded (size, lines, line length; lib/bounded-file.ts) and parsed in one pass, and
 * every error names the file and line (`<file>:<line>: …`).
 */
import { setImmediate } from "node:timers/promises";
import {
  boundedLines,
  formatBytes,
  readBoundedFile,
  type BoundsFailure,
  type LineBounds,
} from "../../../lib/bounded-file.ts";
import { CommodoreError } from "../../../lib/errors.ts";
import { globMatch } from "./glob.ts";
import { parsePublicKeyLine, type PublicKeyInfo } from "./keys.ts";

/**
 * Largest allowed_signers file read: 4 MiB, some 30 000 lines of ed25519 keys with a principal
 * and a namespace (a fleet's file has a few).
 */
export const MAX_ALLOWED_SIGNERS_BYTES = 4 * 1024 * 1024;
/** Most lines of an allowed_signers file, comments and blank lines included. */
export const MAX_ALLOWED_SIGNERS_LINES = 50_000;
/** Longest line: an RSA key of 16 384 bits takes under 3 000 characters. */
export const MAX_ALLOWED_SIGNERS_LINE_LENGTH = 16 * 1024;
const ALLOWED_SIGNERS_LINE_BOUNDS: LineBounds = {
  maxLines: MAX_ALLOWED_SIGNERS_LINES,
  maxLineLength: MAX_ALLOWED_SIGNERS_LINE_LENGTH,
};
/** Lines a reload parses before the event loop gets a turn (about 15 ms of work). */
const LINES_PER_TURN = 500;

const LINE_HINT =
  'each line is `principal[,principal] [namespaces="…"] keytype base64` (see docs/fleet-protocol.md)';
const LIMITS_HINT = `an allowed_signers file holds at most ${formatBytes(MAX_ALLOWED_SIGNERS_BYTES)} in ${MAX_ALLOWED_SIGNERS_LINES} lines of up to ${MAX_ALLOWED_SIGNERS_LINE_LENGTH} characters (docs/config.md)`;

/** An allowed_signers file that cannot be used. */
export class AllowedSignersError extends CommodoreError {
  constructor(message: string, hint = LINE_HINT) {
    super("E_FLEET_ALLOWED_SIGNERS", message, { hint });
  }
}

/** One trusted key with the principals it may speak for. */
export interface SignerEntry {
  readonly principals: readonly string[];
  readonly namespaces: readonly string[] | undefined;
  readonly validAfter: number | undefined;
  readonly validBefore: number | undefined;
  readonly key: PublicKeyInfo;
}

/** Why a verified key may still not sign a request. */
export type SignerRefusal =
  "unknown_signer" | "principal_mismatch" | "namespace_not_allowed" | "key_not_valid_now";

/** A parsed allowed_signers file. */
export interface AllowedSigners {
  readonly entries: readonly SignerEntry[];
  /** Checks that `principal` may sign in `namespace` with the key `blob` at `now` (ms). */
  check(blob: Buffer, principal: string, namespace: string, now: number): SignerRefusal | undefined;
}

/**
 * Splits on spaces and tabs outside double quotes (quotes stay in the fields), by index in
 * one pass.
 */
function splitFields(line: string): string[] {
  const out: string[] = [];
  let start = -1;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === " " || c === "\t")) {
      if (start >= 0) out.push(line.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(line.slice(start));
  return out;
}

/** Splits an options field on commas outside double quotes; empty options are dropped. */
function splitOptions(field: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) {
      if (i > start) out.push(field.slice(start, i));
      start = i + 1;
    }
  }
  if (field.length > start) out.push(field.slice(start));
  return out;
}

function parseTime(value: string, at: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/.exec(value);
  if (!m)
    throw new AllowedSignersError(
      `${at}: time ${JSON.stringify(value)} is not YYYYMMDD[HHMM[SS]][Z]`,
    );
  const [, y, mo, d, h = "00", mi = "00", s = "00", z] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  return z ? Date.UTC(...parts) : new Date(...parts).getTime();
}

function unquote(v: string): string {
  return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** A key type field starts the key; every field before it (after the principals) is options. */
const KEY_TYPE_START = /^(ssh-|ecdsa-|sk-)/;

/** Parses one non-blank, non-comment line; `at` is `<source>:<line>` for errors. */
function parseLine(line: string, at: string): SignerEntry {
  const fields = splitFields(line);
  const principals = unquote(fields[0] ?? "")
    .split(",")
    .filter((p) => p !== "");
  if (principals.length === 0) throw new AllowedSignersError(`${at}: no principal`);
  let namespaces: string[] | undefined;
  let validAfter: number | undefined;
  let validBefore: number | undefined;
  let next = 1;
  for (; next < fields.length && !KEY_TYPE_START.test(fields[next] ?? ""); next++) {
    for (const opt of splitOptions(fields[next] ?? "")) {
      const eq = opt.indexOf("=");
      const name = (eq < 0 ? opt : opt.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? "" : unquote(opt.slice(eq + 1));
      if (name === "namespaces") namespaces = value.split(",").filter((n) => n !== "");
      else if (name === "valid-after") validAfter = parseTime(value, at);
      else if (name === "valid-before") validBefore = parseTime(value, at);
      else if (name === "cert-authority")
        throw new AllowedSignersError(`${at}: cert-authority keys are not supported`);
      else throw new AllowedSignersError(`${at}: unknown option ${JSON.stringify(name)}`);
    }
  }
  const type = fields[next];
  const data = fields[next + 1];
  if (type === undefined || data === undefined)
    throw new AllowedSignersError(`${at}: missing key type or key data`);
  try {
    return {
      principals,
      namespaces,
      validAfter,
      validBefore,
      key: parsePublicKeyLine(`${type} ${data}`),
    };
  } catch (err) {
    throw new AllowedSignersError(`${at}: ${(err as Error).message}`);
  }
}

/** Collects entries line by line and indexes them by key blob as they come (linear). */
class SignersBuilder {
  private readonly entries: SignerEntry[] = [];
  private readonly byBlob = new Map<string, SignerEntry[]>();

  constructor(private readonly source: string) {}

  /** Adds line `number` (blank and `#` comment lines are skipped). */
  add(number: number, raw: string): void {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const entry = parseLine(line, `${this.source}:${number}`);
    this.entries.push(entry);
    const id = entry.key.blob.toString("base64");
    const same = this.byBlob.get(id);
    if (same) same.push(entry);
    else this.byBlob.set(id, [entry]);
  }

  build(): AllowedSigners {
    const { entries, byBlob } = this;
    return {
      entries,
      check(blob, principal, namespace, now) {
        const candidates = byBlob.get(blob.toString("base64"));
        if (!candidates) return "unknown_signer";
        const forPrincipal = candidates.filter((e) =>
          e.principals.some((p) => globMatch(p, principal)),
        );
        if (forPrincipal.length === 0) return "principal_mismatch";
        const inNamespace = forPrincipal.filter(
          (e) => e.namespaces === undefined || e.namespaces.some((n) => globMatch(n, namespace)),
        );
        if (inNamespace.length === 0) return "namespace_not_allowed";
        const valid = inNamespace.some(
          (e) =>
            (e.validAfter === undefined || now >= e.validAfter) &&
            (e.validBefore === undefined || now <= e.validBefore),
        );
        return valid ? undefined : "key_not_valid_now";
      },
    };
  }
}

/** The refusal of a file (or text) outside the limits, or unreadable, as an AllowedSignersError. */
function failure(source: string): BoundsFailure {
  return (message, line) =>
    line === undefined
      ? new AllowedSignersError(
          `cannot read ${source}: ${message}`,
          "check the path and its permissions",
        )
      : new AllowedSignersError(`${source}:${line}: ${message}`, LIMITS_HINT);
}

function linesOf(text: string, source: string) {
  return boundedLines(text, ALLOWED_SIGNERS_LINE_BOUNDS, failure(source));
}

/**
 * Parses allowed_signers text in one pass; `source` (the file) prefixes every error as
 * `<source>:<line>: …`.
 */
export function parseAllowedSigners(text: string, source = "allowed_signers"): AllowedSigners {
  const builder = new SignersBuilder(source);
  for (const [number, line] of linesOf(text, source)) builder.add(number, line);
  return builder.build();
}

function readSignersFile(path: string): string {
  return readBoundedFile(path, MAX_ALLOWED_SIGNERS_BYTES, failure(path)).data.toString("utf8");
}

/** Reads and parses an allowed_signers file (at most {@link MAX_ALLOWED_SIGNERS_BYTES}). */
export function loadAllowedSigners(path: string): AllowedSigners {
  return parseAllowedSigners(readSignersFile(path), path);
}

/**
 * {@link loadAllowedSigners} for a process that keeps serving while it reloads: the file is
 * parsed {@link LINES_PER_TURN} lines at a time, giving the event loop (requests, signals) a
 * turn in between; `signal` abandons the reload between two turns (its reason is thrown).
 */
export async function loadAllowedSignersAsync(
  path: string,
  signal?: AbortSignal,
): Promise<AllowedSigners> {
  const text = readSignersFile(path);
  const builder = new SignersBuilder(path);
  let sinceTurn = 0;
  for (const [number, line] of linesOf(text, path)) {
    if (++sinceTurn === LINES_PER_TURN) {
      sinceTurn = 0;
      await setImmediate();
      signal?.throwIfAborted();
    }
    builder.add(number, line);
  }
  return builder.build();
}
