/**
 * Per-principal token buckets: each principal may make `burst` requests at once and
 * `perMinute` requests per minute on average.
 */

/** Settings of {@link RateLimiter}. */
export interface RateLimitSettings {
  readonly perMinute: number;
  readonly burst: number;
}

/** Most buckets kept; the least recently used one is dropped beyond this. */
export const MAX_BUCKETS = 10_000;
const MS_PER_MINUTE = 60_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** In-memory token buckets keyed by principal. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for `key`; returns 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const now = this.now();
    const rate = this.settings.perMinute / MS_PER_MINUTE;
    const b = this.buckets.get(key) ?? { tokens: this.settings.burst, at: now };
    this.buckets.delete(key);
    b.tokens = Math.min(this.settings.burst, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_BUCKETS) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate / 1_000);
  }
}
