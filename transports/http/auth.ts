/**
 * Bearer tokens map to principals; listed local addresses may call without a token as the
 * anonymous principal. Every caller's requests count against a budget shared by the replicas:
 * the principal's, or for routes that authenticate themselves, the client address's. Tokens
 * are never logged.
 */
import type { MiddlewareHandler } from "hono";
import { getConnInfo } from "@hono/node-server/conninfo";
import { ANONYMOUS_ID, anonymousPrincipal } from "../../bot/identity/directory.ts";
import type { Logger } from "../../lib/log.ts";
import type { Counter } from "../../lib/metrics.ts";
import type { HttpEnv } from "./context.ts";
import { sendError } from "./errors.ts";
import { sendRefusal } from "./limits.ts";
import type { SharedRateLimiter } from "./rate-limit.ts";
import type { TokenResolver } from "./tokens.ts";

/** The caller's address as the socket reports it, or undefined (e.g. in-process requests). */
export function remoteAddress(c: Parameters<MiddlewareHandler>[0]): string | undefined {
  try {
    return getConnInfo(c).remote.address?.replace(/^::ffff:/, "");
  } catch {
    return undefined;
  }
}

/** Resolves the principal and applies the per-principal rate limit. */
export function authMiddleware(
  resolveToken: TokenResolver,
  anonymousFrom: readonly string[],
  limiter: SharedRateLimiter,
  rejected: Counter,
  logger: Logger,
): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const address = remoteAddress(c);
    if (header !== undefined) {
      const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
      const principal = m?.[1] === undefined ? undefined : resolveToken(m[1]);
      if (!principal) {
        rejected.inc({ reason: "bad_token" });
        return sendError(
          c,
          "E_UNAUTHORIZED",
          "the bearer token is not valid",
          "check the token configured for your principal",
        );
      }
      c.set("principal", principal);
    } else if (address !== undefined && anonymousFrom.includes(address)) {
      c.set("principal", anonymousPrincipal(`http:${address}`));
    } else {
      rejected.inc({ reason: "no_token" });
      c.header("WWW-Authenticate", 'Bearer realm="commodore"');
      return sendError(
        c,
        "E_UNAUTHORIZED",
        "this route needs a bearer token",
        "send Authorization: Bearer <token>",
      );
    }
    const who = c.get("principal");
    const key = who.id === ANONYMOUS_ID ? `anonymous@${address ?? ""}` : who.id;
    const decision = await limiter.take(key);
    if (decision.kind !== "allowed") return sendRefusal(c, decision, who.id, rejected, logger);
    await next();
  };
}

/**
 * Limits requests per client address before routes that authenticate themselves (no principal
 * is known before they run).
 */
export function addressLimit(
  limiter: SharedRateLimiter,
  rejected: Counter,
  logger: Logger,
): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const address = remoteAddress(c) ?? "unknown";
    const decision = await limiter.take(address);
    if (decision.kind !== "allowed") return sendRefusal(c, decision, address, rejected, logger);
    await next();
  };
}
