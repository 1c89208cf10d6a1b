/**
 * Remembers request ids until their validity window ends, so a captured request cannot be
 * replayed. Bounded: when full of still-valid ids it refuses new ones rather than forgetting
 * old ones (forgetting would re-open a replay window).
 */

/** Default upper bound on remembered ids. */
export const DEFAULT_REPLAY_CACHE_MAX = 100_000;

/** Outcome of {@link ReplayCache.admit}. */
export type AdmitResult = "fresh" | "replay" | "full";

/** A seen-id cache. */
export class ReplayCache {
  private readonly until = new Map<string, number>();
  constructor(private readonly max: number = DEFAULT_REPLAY_CACHE_MAX) {}

  /** Records `id` as seen until `forgetAt` (ms); says whether it was new. */
  admit(id: string, forgetAt: number, now: number): AdmitResult {
    const prev = this.until.get(id);
    if (prev !== undefined && prev >= now) return "replay";
    if (this.until.size >= this.max) this.sweep(now);
    if (this.until.size >= this.max) return "full";
    this.until.set(id, forgetAt);
    return "fresh";
  }

  /** Number of remembered ids. */
  get size(): number {
    return this.until.size;
  }

  /** Drops ids whose window has passed. */
  sweep(now: number): void {
    for (const [id, t] of this.until) if (t < now) this.until.delete(id);
  }
}
