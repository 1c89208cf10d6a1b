/**
 * The rules for `SignatureCertChainUrl`: `https`, host `s3.amazonaws.com` (any case), port 443
 * when one is given, no user info, and a path that still starts with `/echo.api/` after dot
 * segments are removed.
 *
 * The raw string is checked by hand (RFC 3986 dot-segment removal on the path as sent) and
 * again through the WHATWG parser that `fetch` uses, so the URL that is verified is exactly
 * the URL that is fetched. Percent-encoded dots, slashes and backslashes are refused outright.
 */
import { VoiceVerifyError } from "./errors.ts";

/** The only host allowed to serve signing certificates. */
export const CERT_HOST = "s3.amazonaws.com";
/** Every signing certificate lives under this path prefix. */
export const CERT_PATH_PREFIX = "/echo.api/";
/** The only port allowed (explicitly or by default). */
export const CERT_PORT = 443;
/** Longest URL considered at all. */
export const MAX_CERT_URL_LENGTH = 2_048;

const RAW_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;
const HOST_PORT = /^([^:]+)(?::([0-9]{1,5}))?$/;
/** Encoded `.`, `/` and `\`: legitimate certificate URLs never contain them. */
const ENCODED_TRICKS = /%(2e|2f|5c)/i;
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u0020\u007f\\]/;

function reject(reason: string): never {
  throw new VoiceVerifyError(
    "E_VOICE_CERT_URL",
    `SignatureCertChainUrl rejected: ${reason}`,
    `the URL must look like https://${CERT_HOST}${CERT_PATH_PREFIX}<file>`,
  );
}

/** RFC 3986 §5.2.4 remove_dot_segments for an absolute path. */
export function removeDotSegments(path: string): string {
  const segments = path.split("/").slice(1);
  const out: string[] = [];
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "." || segment === "..") {
      if (segment === "..") out.pop();
      if (last) out.push("");
    } else {
      out.push(segment);
    }
  });
  return "/" + out.join("/");
}

function checkPath(path: string): void {
  if (!path.startsWith(CERT_PATH_PREFIX) || path.length === CERT_PATH_PREFIX.length)
    reject(`path must start with ${CERT_PATH_PREFIX} and name a file`);
}

/**
 * Checks a certificate chain URL against the rules and returns the canonical URL to fetch
 * and cache by. Throws {@link VoiceVerifyError} `E_VOICE_CERT_URL` with the broken rule.
 */
export function checkCertUrl(raw: string): string {
  if (raw.length === 0 || raw.length > MAX_CERT_URL_LENGTH)
    reject(`length must be 1..${MAX_CERT_URL_LENGTH}`);
  if (FORBIDDEN_CHARS.test(raw)) reject("contains whitespace, control characters or '\\'");
  const m = RAW_URL.exec(raw);
  if (m === null) reject("not an absolute URL");
  const [, scheme = "", authority = "", path = "", query, fragment] = m;
  if (scheme.toLowerCase() !== "https") reject("scheme must be https");
  if (authority.includes("@")) reject("user info is not allowed");
  const hp = HOST_PORT.exec(authority);
  if (hp === null) reject("malformed host or port");
  const [, host = "", port] = hp;
  if (host.toLowerCase() !== CERT_HOST) reject(`host must be ${CERT_HOST}`);
  if (port !== undefined && Number(port) !== CERT_PORT) reject(`port must be ${CERT_PORT}`);
  if (query !== undefined || fragment !== undefined) reject("query and fragment are not allowed");
  if (ENCODED_TRICKS.test(path)) reject("percent-encoded '.', '/' or '\\' in the path");
  checkPath(removeDotSegments(path));

  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    reject("not parseable as a URL");
  }
  if (parsed.protocol !== "https:" || parsed.hostname !== CERT_HOST || parsed.port !== "")
    reject("scheme, host or port differ after parsing");
  if (parsed.username !== "" || parsed.password !== "") reject("user info is not allowed");
  checkPath(parsed.pathname);
  return parsed.href;
}
