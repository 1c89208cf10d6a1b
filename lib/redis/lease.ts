/**
 * A lease in Redis that exactly one process holds at a time, with a fencing token.
 *
 * - Acquire: `SET <holder> <token> NX PX <ttl>` and, in the same Lua call, `INCR <fence>`:
 *   every new holder gets a strictly larger fence number. A contender that finds the lease
 *   taken retries when it expires (its PTTL), at the latest after `renewMs`, so a dead
 *   holder is replaced about `ttl` after its last renewal.
 * - Renew every `renewMs`: `PEXPIRE` only if the holder key still carries our token.
 * - Release: `DEL` only if it still carries our token.
 *
 * The holder considers itself the leader only until `lastRenewStart + ttl - margin`, measured
 * on its own monotonic clock, so it stops acting before Redis lets anyone else acquire, even
 * when it cannot reach Redis at all. Both keys share one hash tag (one cluster slot).
 */
import { randomUUID } from "node:crypto";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { RedisClient } from "./client.ts";
import { DEFAULT_LEASE_RENEW_MS, DEFAULT_LEASE_TTL_MS } from "./options.ts";

/** Share of the TTL the holder gives up early, as a guard against clock-rate drift and latency. */
const SAFETY_SHARE = 0.1;

/** Shortest wait before the next acquisition attempt. */
const MIN_RETRY_MS = 20;
/** Returns the new fence (> 0), or minus the holder's remaining PTTL (<= 0). */
const ACQUIRE = `if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('incr', KEYS[2])
end
return -math.max(redis.call('pttl', KEYS[1]), 0)`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

/** The two keys of lease `name` under `prefix`, sharing the hash tag `{<prefix>:lease:<name>}`. */
export function leaseKeys(prefix: string, name: string): { holder: string; fence: string } {
  const tag = `{${prefix}:lease:${name}}`;
  return { holder: `${tag}:holder`, fence: `${tag}:fence` };
}

/** Options of {@link RedisLease}. */
export interface LeaseOptions {
  readonly redis: RedisClient;
  readonly keys: { readonly holder: string; readonly fence: string };
  readonly ttlMs?: number;
  readonly renewMs?: number;
  readonly logger: Logger;
  /** Called with the new fence number when this process becomes the holder. */
  readonly onAcquired: (fence: number) => void;
  /** Called the moment this process stops being the holder (lost, expired or released). */
  readonly onLost: (why: string) => void;
  /** Monotonic clock in ms (tests). */
  readonly clock?: () => number;
}

/** One contender for a lease. */
export class RedisLease {
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly clock: () => number;
  private token = randomUUID();
  private validUntil = 0;
  private currentFence: number | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly o: LeaseOptions) {
    this.ttlMs = o.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.renewMs = o.renewMs ?? DEFAULT_LEASE_RENEW_MS;
    this.clock = o.clock ?? (() => performance.now());
  }

  /** True while this process holds the lease and its local validity has not run out. */
  get held(): boolean {
    return this.currentFence !== undefined && this.clock() < this.validUntil;
  }

  /** The fence number of the current holding, if held. */
  get fence(): number | undefined {
    return this.held ? this.currentFence : undefined;
  }

  /**
   * Starts contending: tries at once, then renews (or retries) every `renewMs` at most.
   * Resolves once the first attempt has been answered (or failed), so `held` tells whether
   * this process won it.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.tick();
  }

  /** Stops contending and releases the lease if held. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.ticker);
    if (this.currentFence === undefined) return;
    const token = this.token;
    this.lose("released");
    await this.o.redis.eval(RELEASE, 1, this.o.keys.holder, token).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    let next = this.renewMs;
    const started = this.clock();
    const ttl = String(this.ttlMs);
    const { holder, fence } = this.o.keys;
    try {
      if (this.currentFence === undefined) {
        const got = Number(await this.o.redis.eval(ACQUIRE, 2, holder, fence, this.token, ttl));
        if (got > 0 && this.running) {
          this.currentFence = got;
          this.extend(started);
          this.o.logger.info("lease acquired", { lease: holder, fence: got });
          this.o.onAcquired(got);
        } else if (got <= 0) {
          next = Math.min(this.renewMs, Math.max(MIN_RETRY_MS, -got + MIN_RETRY_MS));
        }
      } else {
        const token = this.token;
        const renewed = Number(await this.o.redis.eval(RENEW, 1, holder, token, ttl));
        // When the lease was lost locally while the renewal was in flight, the answer is moot.
        if (token === this.token) {
          if (renewed === 1) this.extend(started);
          else this.lose("taken over or expired in Redis");
        }
      }
    } catch (err) {
      this.o.logger.warn("lease round trip failed", { lease: holder, error: errorMessage(err) });
    }
    if (this.running) this.ticker = setTimeout(() => void this.tick(), next);
  }

  private extend(started: number): void {
    this.validUntil = started + this.ttlMs * (1 - SAFETY_SHARE);
    clearTimeout(this.expiry);
    this.expiry = setTimeout(
      () => this.lose("not renewed in time"),
      Math.max(0, this.validUntil - this.clock()),
    );
  }

  private lose(why: string): void {
    if (this.currentFence === undefined) return;
    const fence = this.currentFence;
    this.currentFence = undefined;
    this.validUntil = 0;
    this.token = randomUUID();
    clearTimeout(this.expiry);
    this.o.logger.warn("lease lost", { lease: this.o.keys.holder, fence, why });
    this.o.onLost(why);
  }
}
