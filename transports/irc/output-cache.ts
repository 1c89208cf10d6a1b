/**
 * A short-lived in-memory store of full job outputs, so `more <job>` can send by private
 * message what was too long for the channel. Bounded in entries and age.
 */

/** One job's stored output and whose command produced it. */
export interface CachedOutput {
  readonly lines: readonly string[];
  /** Principal id of the caller whose command produced the output. */
  readonly owner: string;
}

interface Entry extends CachedOutput {
  readonly expiresAt: number;
}

/** Keeps the last `maxJobs` outputs for `ttlMs`. */
export class OutputCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxJobs: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Stores (or replaces) the output of `jobId`, evicting the oldest entry when full. */
  put(jobId: string, lines: readonly string[], owner: string): void {
    this.entries.delete(jobId);
    this.entries.set(jobId, { lines, owner, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxJobs) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** The stored output, or undefined when unknown or expired. */
  get(jobId: string): CachedOutput | undefined {
    const entry = this.entries.get(jobId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(jobId);
      return undefined;
    }
    return entry;
  }
}
