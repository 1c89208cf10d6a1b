/**
 * Capped exponential backoff with full jitter, shared by every reconnect loop.
 *
 * Attempt `n` waits a random time between `baseMs` and `min(capMs, baseMs * 2^n)`, so a fleet
 * of clients that lost the same server do not all come back in the same millisecond.
 */

/** Bounds for {@link backoffDelay}. */
export interface BackoffBounds {
  /** Shortest delay, also the first attempt's ceiling. */
  readonly baseMs: number;
  /** Longest delay. */
  readonly capMs: number;
}

/** Exponent limit so `2 ** attempt` never overflows into Infinity. */
const MAX_EXPONENT = 16;

/** Delay before reconnect attempt `attempt` (1-based): full jitter under a capped exponential. */
export function backoffDelay(
  attempt: number,
  bounds: BackoffBounds,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 0), MAX_EXPONENT);
  const ceiling = Math.min(bounds.capMs, bounds.baseMs * 2 ** exponent);
  return Math.max(bounds.baseMs, Math.round(ceiling * random()));
}
