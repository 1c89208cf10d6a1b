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
 * linear-time fleet glob, so a hostile pattern cannot stall the controller.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { CommodoreError } from "../../../lib/errors.ts";
import { compileGlob, type Glob } from "../protocol/glob.ts";
import { parsePublicKeyLine, type PublicKeyInfo } from "../protocol/keys.ts";

/** The known hosts file is unreadable or has a bad line. */
export class KnownHostsError extends CommodoreError {
  constructor(message: string) {
    super("E_FLEET_KNOWN_HOSTS", message, {
      hint: "each line is `[@cert-authority|@revoked] hostpatterns keytype base64 [comment]`, as in ssh_known_hosts",
    });
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

function hashedTest(entry: string, lineNo: number): HostTest {
  const [salt, hash] = entry.slice(HASHED_PREFIX.length).split("|");
  if (salt === undefined || hash === undefined || salt === "" || hash === "")
    throw new KnownHostsError(`line ${lineNo}: hashed hostname needs |1|salt|hash`);
  const saltBytes = Buffer.from(salt, "base64");
  const expected = Buffer.from(hash, "base64");
  return (hostname) => {
    const actual = createHmac("sha1", saltBytes).update(hostname).digest();
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };
}

function patternOf(raw: string, lineNo: number): Pattern {
  const negated = raw.startsWith("!");
  let body = negated ? raw.slice(1) : raw;
  if (body === "") throw new KnownHostsError(`line ${lineNo}: empty host pattern`);
  if (body.startsWith(HASHED_PREFIX)) return { negated, test: hashedTest(body, lineNo) };
  const bracketed = /^\[([^\]]+)\]:\d{1,5}$/.exec(body);
  if (bracketed?.[1] !== undefined) body = bracketed[1];
  const glob: Glob = compileGlob(body.toLowerCase());
  return { negated, test: (hostname) => glob.matches(hostname.toLowerCase()) };
}

/** OpenSSH semantics: a negated match refuses; otherwise any positive match accepts. */
function hostTest(field: string, lineNo: number): HostTest {
  const patterns = field.split(",").map((p) => patternOf(p, lineNo));
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

/** Parses known_hosts text; every bad line is an error naming its number. */
export function parseKnownHosts(text: string): KnownHosts {
  const keys: Entry[] = [];
  const authorities: Entry[] = [];
  const revoked = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith("@") === true ? fields.shift() : undefined;
    if (marker !== undefined && marker !== CERT_AUTHORITY && marker !== REVOKED)
      throw new KnownHostsError(`line ${lineNo}: unknown marker ${JSON.stringify(marker)}`);
    const [hosts, type, data] = fields;
    if (hosts === undefined || type === undefined || data === undefined)
      throw new KnownHostsError(`line ${lineNo}: expected hostpatterns, key type and key data`);
    let key: PublicKeyInfo;
    try {
      key = parsePublicKeyLine(`${type} ${data}`);
    } catch (err) {
      throw new KnownHostsError(`line ${lineNo}: ${(err as Error).message}`);
    }
    if (marker === REVOKED) {
      revoked.add(key.line);
      return;
    }
    const entry = { matches: hostTest(hosts, lineNo), key };
    (marker === CERT_AUTHORITY ? authorities : keys).push(entry);
  });
  return {
    accepts: (hostname, keyLine) => keys.some((e) => e.key.line === keyLine && e.matches(hostname)),
    revoked: (keyLine) => revoked.has(keyLine),
    authoritiesFor: (hostname) => authorities.filter((e) => e.matches(hostname)).map((e) => e.key),
    counts: { keys: keys.length, authorities: authorities.length, revoked: revoked.size },
  };
}

/** Reads and parses a known_hosts file. */
export function loadKnownHosts(path: string): KnownHosts {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KnownHostsError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  return parseKnownHosts(text);
}
