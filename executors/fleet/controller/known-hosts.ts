/**
 * The controller's `known_hosts` file, in OpenSSH's own format (sshd(8) "SSH_KNOWN_HOSTS FILE
 * FORMAT"): `[marker] hostpatterns keytype base64 [comment]`.
 *
 * - plain lines accept that key for the matching hostnames (static enrollment);
 * - `@cert-authority` lines name CAs whose host certificates auto-enroll matching hostnames;
 * - `@revoked` lines refuse a key for every hostname, whatever else accepts it.
 *
 * Host patterns are comma-separated globs (`*`, `?`), a leading `!` negates (a negated match
 * wins), `|1|salt|hash` entries are OpenSSH's hashed hostnames, and `[host]:port` is accepted
 * (the port is ignored: agents are named by hostname, not address). Matching uses the
 * linear-time fleet glob, so a hostile pattern cannot stall the controller. Files are bounded
 * (size, lines, line length; lib/bounded-file.ts) and parsed in one pass; every error names the
 * file and line (`<file>:<line>: …`).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import {
  boundedLines,
  formatBytes,
  readBoundedFile,
  type BoundsFailure,
  type LineBounds,
} from "../../../lib/bounded-file.ts";
import { CommodoreError } from "../../../lib/errors.ts";
import { compileGlob, type Glob } from "../protocol/glob.ts";
import { parsePublicKeyLine, type PublicKeyInfo } from "../protocol/keys.ts";

/**
 * Largest known_hosts file read: 16 MiB, some 100 000 hashed ed25519 lines (one per host of a
 * large fleet enrolled statically).
 */
export const MAX_KNOWN_HOSTS_BYTES = 16 * 1024 * 1024;
/** Most lines of a known_hosts file, comments and blank lines included. */
export const MAX_KNOWN_HOSTS_LINES = 100_000;
/** Longest line: an RSA key of 16 384 bits and a few hundred host patterns. */
export const MAX_KNOWN_HOSTS_LINE_LENGTH = 16 * 1024;
const KNOWN_HOSTS_LINE_BOUNDS: LineBounds = {
  maxLines: MAX_KNOWN_HOSTS_LINES,
  maxLineLength: MAX_KNOWN_HOSTS_LINE_LENGTH,
};
const LINE_HINT =
  "each line is `[@cert-authority|@revoked] hostpatterns keytype base64 [comment]`, as in ssh_known_hosts";
const LIMITS_HINT = `a known_hosts file holds at most ${formatBytes(MAX_KNOWN_HOSTS_BYTES)} in ${MAX_KNOWN_HOSTS_LINES} lines of up to ${MAX_KNOWN_HOSTS_LINE_LENGTH} characters (docs/config.md)`;

/** The known hosts file is unreadable or has a bad line. */
export class KnownHostsError extends CommodoreError {
  constructor(message: string, hint = LINE_HINT) {
    super("E_FLEET_KNOWN_HOSTS", message, { hint });
  }
}

/** Line markers OpenSSH defines. */
const CERT_AUTHORITY = "@cert-authority";
const REVOKED = "@revoked";
/** Prefix of an OpenSSH hashed hostname (`|1|base64 salt|base64 HMAC-SHA1`). */
const HASHED_PREFIX = "|1|";

type HostTest = (hostname: string) => boolean;

interface Pattern {
  readonly negated: boolean;
  readonly test: HostTest;
}

interface Entry {
  readonly matches: HostTest;
  readonly key: PublicKeyInfo;
}

/** A parsed known_hosts file. */
export interface KnownHosts {
  /** True when a plain line accepts `keyLine` for `hostname`. */
  accepts(hostname: string, keyLine: string): boolean;
  /** True when an `@revoked` line names `keyLine`. */
  revoked(keyLine: string): boolean;
  /** CA keys whose host certificates are trusted for `hostname`. */
  authoritiesFor(hostname: string): readonly PublicKeyInfo[];
  /** Number of plain, CA and revoked lines, for log lines. */
  readonly counts: {
    readonly keys: number;
    readonly authorities: number;
    readonly revoked: number;
  };
}

function hashedTest(entry: string, at: string): HostTest {
  const [salt, hash] = entry.slice(HASHED_PREFIX.length).split("|");
  if (salt === undefined || hash === undefined || salt === "" || hash === "")
    throw new KnownHostsError(`${at}: hashed hostname needs |1|salt|hash`);
  const saltBytes = Buffer.from(salt, "base64");
  const expected = Buffer.from(hash, "base64");
  return (hostname) => {
    const actual = createHmac("sha1", saltBytes).update(hostname).digest();
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };
}

function patternOf(raw: string, at: string): Pattern {
  const negated = raw.startsWith("!");
  let body = negated ? raw.slice(1) : raw;
  if (body === "") throw new KnownHostsError(`${at}: empty host pattern`);
  if (body.startsWith(HASHED_PREFIX)) return { negated, test: hashedTest(body, at) };
  const bracketed = /^\[([^\]]+)\]:\d{1,5}$/.exec(body);
  if (bracketed?.[1] !== undefined) body = bracketed[1];
  const glob: Glob = compileGlob(body.toLowerCase());
  return { negated, test: (hostname) => glob.matches(hostname.toLowerCase()) };
}

/** OpenSSH semantics: a negated match refuses; otherwise any positive match accepts. */
function hostTest(field: string, at: string): HostTest {
  const patterns = field.split(",").map((p) => patternOf(p, at));
  return (hostname) => {
    let hit = false;
    for (const p of patterns) {
      if (!p.test(hostname)) continue;
      if (p.negated) return false;
      hit = true;
    }
    return hit;
  };
}

function failure(source: string): BoundsFailure {
  return (message, line) =>
    line === undefined
      ? new KnownHostsError(
          `cannot read ${source}: ${message}`,
          "check the path and its permissions",
        )
      : new KnownHostsError(`${source}:${line}: ${message}`, LIMITS_HINT);
}

/**
 * Parses known_hosts text in one pass; every bad line is an error `<source>:<line>: …`.
 * Plain entries are indexed by key, so `accepts` looks at the lines of one key only.
 */
export function parseKnownHosts(text: string, source = "known_hosts"): KnownHosts {
  const keys = new Map<string, Entry[]>();
  const authorities: Entry[] = [];
  const revoked = new Set<string>();
  let plain = 0;
  for (const [lineNo, raw] of boundedLines(text, KNOWN_HOSTS_LINE_BOUNDS, failure(source))) {
    const at = `${source}:${lineNo}`;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith("@") === true ? fields[0] : undefined;
    if (marker !== undefined && marker !== CERT_AUTHORITY && marker !== REVOKED)
      throw new KnownHostsError(`${at}: unknown marker ${JSON.stringify(marker)}`);
    const first = marker === undefined ? 0 : 1;
    const hosts = fields[first];
    const type = fields[first + 1];
    const data = fields[first + 2];
    if (hosts === undefined || type === undefined || data === undefined)
      throw new KnownHostsError(`${at}: expected hostpatterns, key type and key data`);
    let key: PublicKeyInfo;
    try {
      key = parsePublicKeyLine(`${type} ${data}`);
    } catch (err) {
      throw new KnownHostsError(`${at}: ${(err as Error).message}`);
    }
    if (marker === REVOKED) {
      revoked.add(key.line);
      continue;
    }
    const entry = { matches: hostTest(hosts, at), key };
    if (marker === CERT_AUTHORITY) {
      authorities.push(entry);
      continue;
    }
    plain++;
    const same = keys.get(key.line);
    if (same) same.push(entry);
    else keys.set(key.line, [entry]);
  }
  return {
    accepts: (hostname, keyLine) => keys.get(keyLine)?.some((e) => e.matches(hostname)) === true,
    revoked: (keyLine) => revoked.has(keyLine),
    authoritiesFor: (hostname) => authorities.filter((e) => e.matches(hostname)).map((e) => e.key),
    counts: { keys: plain, authorities: authorities.length, revoked: revoked.size },
  };
}

/** Reads and parses a known_hosts file (at most {@link MAX_KNOWN_HOSTS_BYTES}). */
export function loadKnownHosts(path: string): KnownHosts {
  const { data } = readBoundedFile(path, MAX_KNOWN_HOSTS_BYTES, failure(path));
  return parseKnownHosts(data.toString("utf8"), path);
}
