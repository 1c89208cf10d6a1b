/**
 * Cross-site request forgery protection for every state-changing request (any method but GET
 * and HEAD), in the manner of Hono's `csrf` middleware but stricter where Commodore needs it:
 *
 * - it checks every content type (Hono's checks only form-like ones), so JSON requests from
 *   another origin are refused too;
 * - a request is refused when the browser says it is cross-origin: `Sec-Fetch-Site` other than
 *   `same-origin` or `none` (a typed address, a bookmark), or an `Origin` that is neither the
 *   request's own `Host` nor the origin of `http.publicUrl` (for a proxy that rewrites `Host`);
 *   `Origin: null` (sandboxed frames, some redirects) is cross-origin;
 * - a request with neither header is allowed: curl, scripts, the voice assistant and
 *   provisioning callbacks send none, and every browser sends `Origin` on such requests.
 *
 * The scheme is not compared with `Host` (behind a TLS proxy the server cannot see it); the
 * host and port are. Refusals answer 403 `E_CROSS_ORIGIN`.
 */
import type { MiddlewareHandler } from "hono";
import { OptionsError } from "../../lib/errors.ts";
import type { Counter } from "../../lib/metrics.ts";
import { sendError } from "./errors.ts";
import { requestHost } from "./host-check.ts";

/** Methods that never change anything. */
const SAFE_METHODS = new Set(["GET", "HEAD"]);
/** `Sec-Fetch-Site` values of requests a page on this server (or the user) started. */
const SAME_ORIGIN_FETCH = new Set(["same-origin", "none"]);
const DEFAULT_PORTS: Readonly<Record<string, string>> = { "http:": "80", "https:": "443" };
/** Longest header value repeated in an error message. */
const MAX_SHOWN = 100;

/** Options of {@link originCheck}. */
export interface OriginCheckOptions {
  /** `http.publicUrl`: its origin is accepted whatever `Host` says. */
  readonly publicUrl?: string | undefined;
}

/** True when `origin` is the origin of a page served by this server under `host`. */
function sameOrigin(origin: string, host: string, publicOrigin: string | undefined): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (url.origin === "null" || defaultPort === undefined) return false;
  if (publicOrigin !== undefined && url.origin === publicOrigin) return true;
  const lower = host.toLowerCase();
  const suffix = `:${defaultPort}`;
  return url.host === (lower.endsWith(suffix) ? lower.slice(0, -suffix.length) : lower);
}

/** Refuses cross-origin state-changing requests with 403 `E_CROSS_ORIGIN`. */
export function originCheck(options: OriginCheckOptions, rejected: Counter): MiddlewareHandler {
  let publicOrigin: string | undefined;
  if (options.publicUrl !== undefined) {
    try {
      publicOrigin = new URL(options.publicUrl).origin;
    } catch {
      throw new OptionsError(
        `http.publicUrl: expected an http(s) URL, found ${JSON.stringify(options.publicUrl)}`,
      );
    }
  }
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    let refused: string | undefined;
    if (site !== undefined && !SAME_ORIGIN_FETCH.has(site))
      refused = `Sec-Fetch-Site: ${site.slice(0, MAX_SHOWN)}`;
    else if (origin !== undefined && !sameOrigin(origin, requestHost(c), publicOrigin))
      refused = `Origin ${JSON.stringify(origin.slice(0, MAX_SHOWN))}`;
    if (refused === undefined) return next();
    rejected.inc({ reason: "cross_origin" });
    return sendError(
      c,
      "E_CROSS_ORIGIN",
      `cross-origin ${c.req.method} refused (${refused} is not this server)`,
      "state-changing requests must come from this server's own pages or from a client without a browser origin",
    );
  };
}
