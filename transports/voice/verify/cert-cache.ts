/**
 * Verified signing chains cached by canonical URL until the earliest `notAfter` in the chain.
 * Bounded: the least recently used entry is dropped first. Concurrent misses for one URL share
 * one load, so a burst of requests fetches a certificate once.
 */
import type { VerifiedChain } from "./chain.ts";

/** Default number of chains kept (the assistant rotates through very few). */
export const DEFAULT_CERT_CACHE_SIZE = 16;

/** A bounded, expiring cache of verified chains. */
export class CertCache {
  private readonly entries = new Map<string, VerifiedChain>();
  private readonly loading = new Map<string, Promise<VerifiedChain>>();

  constructor(private readonly maxEntries = DEFAULT_CERT_CACHE_SIZE) {}

  /** Number of cached chains (expired ones included until next touched). */
  get size(): number {
    return this.entries.size;
  }

  /** The cached chain for `url` when it is valid at `now`. */
  get(url: string, now: number): VerifiedChain | undefined {
    const hit = this.entries.get(url);
    if (hit === undefined) return undefined;
    this.entries.delete(url);
    if (now < hit.notBefore || now > hit.notAfter) return undefined;
    this.entries.set(url, hit);
    return hit;
  }

  /** Returns the cached chain, or runs `load` once (shared by concurrent callers) and caches it. */
  async getOrLoad(
    url: string,
    now: number,
    load: () => Promise<VerifiedChain>,
  ): Promise<VerifiedChain> {
    const hit = this.get(url, now);
    if (hit !== undefined) return hit;
    const pending = this.loading.get(url);
    if (pending !== undefined) return await pending;
    const promise = load().finally(() => this.loading.delete(url));
    this.loading.set(url, promise);
    const chain = await promise;
    this.set(url, chain);
    return chain;
  }

  private set(url: string, chain: VerifiedChain): void {
    this.entries.delete(url);
    this.entries.set(url, chain);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
