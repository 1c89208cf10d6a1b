/**
 * The answer to a request its rate limit refuses: 429 over budget, 503 when the shared budget
 * cannot be checked and the route fails closed.
 */
import type { Context } from "hono";
import type { Logger } from "../../lib/log.ts";
import type { Counter } from "../../lib/metrics.ts";
import { sendError } from "./errors.ts";
import type { RateDecision } from "./rate-limit.ts";

/** Retry-After sent when a budget cannot be checked (Redis unreachable, failing closed). */
const UNAVAILABLE_RETRY_SECONDS = 5;

/** A decision that refuses the request. */
type Refusal = Exclude<RateDecision, { kind: "allowed" }>;

/**
 * 429 `E_RATE_LIMITED` with `Retry-After`, or 503 `E_RATE_LIMIT_UNAVAILABLE` when the shared
 * budget could not be read and the route fails closed. `subject` names whose budget it is.
 */
export function sendRefusal(
  c: Context,
  refusal: Refusal,
  subject: string,
  rejected: Counter,
  logger: Logger,
): Response {
  if (refusal.kind === "limited") {
    rejected.inc({ reason: "rate_limited" });
    c.header("Retry-After", String(refusal.retryAfterSeconds));
    return sendError(
      c,
      "E_RATE_LIMITED",
      `too many requests from ${subject}`,
      `retry in ${refusal.retryAfterSeconds} s`,
    );
  }
  rejected.inc({ reason: "rate_limit_unavailable" });
  logger.warn("rate limit could not be checked; request refused", {
    path: c.req.path,
    reason: refusal.reason,
  });
  c.header("Retry-After", String(UNAVAILABLE_RETRY_SECONDS));
  return sendError(
    c,
    "E_RATE_LIMIT_UNAVAILABLE",
    "the shared request budget cannot be checked (Redis is unreachable)",
    `retry in ${UNAVAILABLE_RETRY_SECONDS} s`,
  );
}
