/**
 * Short-lived signed tokens for the status page: a job link (`?t=…`) the bot hands out with a
 * job, and a browser session started with a bearer token. A session is
 * `<expiry>.<principal, base64url>.<HMAC-SHA256, base64url>`; a job link also names its job,
 * `<expiry>.<job id, base64url>.<principal, base64url>.<HMAC>`, so a link presented anywhere
 * else can be recognised as a valid link for another page. The HMAC covers a purpose, the job
 * id (empty for sessions), the principal and the expiry; verification compares in constant
 * time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** What a token is good for. */
export type TokenKind = "job" | "session";

/** A verified token. */
export interface VerifiedToken {
  readonly principal: string;
  /** Expiry in Unix seconds. */
  readonly expires: number;
}

/** A verified job link: the job it opens and the principal it was made for. */
export interface VerifiedJobLink extends VerifiedToken {
  readonly jobId: string;
}

const MS_PER_SECOND = 1_000;
/** Longest token accepted, so hostile input costs nothing to refuse. */
export const MAX_TOKEN_LENGTH = 512;
/** Shortest secret accepted (bytes). */
export const MIN_SECRET_BYTES = 16;
const TOKEN = /^(\d{1,12})\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/;
const JOB_TOKEN =
  /^(\d{1,12})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/;
const DOMAIN = "commodore-status-v1";

function mac(secret: Buffer, kind: TokenKind, jobId: string, principal: string, exp: number) {
  return createHmac("sha256", secret)
    .update([DOMAIN, kind, jobId, principal, String(exp)].join("\0"), "utf8")
    .digest();
}

/** Signs a token for `principal` (and `jobId` for job links) valid until `expires` (Unix s). */
export function signToken(
  secret: Buffer,
  kind: TokenKind,
  jobId: string,
  principal: string,
  expires: number,
): string {
  const who = Buffer.from(principal, "utf8").toString("base64url");
  const tag = mac(secret, kind, jobId, principal, expires).toString("base64url");
  if (kind === "session") return `${expires}.${who}.${tag}`;
  return `${expires}.${Buffer.from(jobId, "utf8").toString("base64url")}.${who}.${tag}`;
}

/** True when `tag` is the MAC of these fields and `expires` (Unix s) is after `now` (ms). */
function authentic(
  secret: Buffer,
  kind: TokenKind,
  jobId: string,
  principal: string,
  expires: number,
  tag: string,
  now: number,
): boolean {
  if (expires * MS_PER_SECOND <= now) return false;
  const want = mac(secret, kind, jobId, principal, expires);
  const got = Buffer.from(tag, "base64url");
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * The job and principal of a job link signed with `secret` that has not expired at `now` (ms),
 * whichever job it opens; otherwise undefined.
 */
export function readJobLink(
  secret: Buffer,
  token: string,
  now: number = Date.now(),
): VerifiedJobLink | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const m = JOB_TOKEN.exec(token);
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined || m[4] === undefined)
    return undefined;
  const expires = Number(m[1]);
  const jobId = Buffer.from(m[2], "base64url").toString("utf8");
  const principal = Buffer.from(m[3], "base64url").toString("utf8");
  return authentic(secret, "job", jobId, principal, expires, m[4], now)
    ? { jobId, principal, expires }
    : undefined;
}

/**
 * The token's principal when `token` was signed with `secret` for this kind and job and has
 * not expired at `now` (ms); otherwise undefined.
 */
export function verifyToken(
  secret: Buffer,
  kind: TokenKind,
  jobId: string,
  token: string,
  now: number = Date.now(),
): VerifiedToken | undefined {
  if (kind === "job") {
    const link = readJobLink(secret, token, now);
    return link?.jobId === jobId ? { principal: link.principal, expires: link.expires } : undefined;
  }
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const m = TOKEN.exec(token);
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const expires = Number(m[1]);
  const principal = Buffer.from(m[2], "base64url").toString("utf8");
  return authentic(secret, kind, jobId, principal, expires, m[3], now)
    ? { principal, expires }
    : undefined;
}

/** Unix seconds `ttlSeconds` from `now` (ms). */
export function expiryFrom(now: number, ttlSeconds: number): number {
  return Math.floor(now / MS_PER_SECOND) + ttlSeconds;
}
