/**
 * Short-lived signed tokens for the status page: a job link (`?t=…`) the bot hands out with a
 * job, and a browser session started with a bearer token. Both are
 * `<expiry>.<principal, base64url>.<HMAC-SHA256, base64url>` over a purpose, the job id (empty
 * for sessions), the principal and the expiry; verification compares in constant time.
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

const MS_PER_SECOND = 1_000;
/** Longest token accepted, so hostile input costs nothing to refuse. */
export const MAX_TOKEN_LENGTH = 512;
/** Shortest secret accepted (bytes). */
export const MIN_SECRET_BYTES = 16;
const TOKEN = /^(\d{1,12})\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/;
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
  return `${expires}.${who}.${mac(secret, kind, jobId, principal, expires).toString("base64url")}`;
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
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const m = TOKEN.exec(token);
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const expires = Number(m[1]);
  if (expires * MS_PER_SECOND <= now) return undefined;
  const principal = Buffer.from(m[2], "base64url").toString("utf8");
  const want = mac(secret, kind, jobId, principal, expires);
  const got = Buffer.from(m[3], "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  return { principal, expires };
}

/** Unix seconds `ttlSeconds` from `now` (ms). */
export function expiryFrom(now: number, ttlSeconds: number): number {
  return Math.floor(now / MS_PER_SECOND) + ttlSeconds;
}
