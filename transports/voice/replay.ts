/**
 * Replay protection beyond the timestamp window: every verified request id is remembered for
 * as long as a request with it could still pass the timestamp check, and a second request with
 * the same id is refused. `commodore start` keeps the ids in Redis (`SET NX PX`, one key per
 * id under the bot's prefix), so a request replayed to another replica is refused too; the
 * in-memory cache serves a webhook running without Redis.
 */
import { createHash } from "node:crypto";
import { OptionsError } from "../../lib/errors.ts";
import type { RedisClient } from "../../lib/redis/client.ts";

/** Remembers request ids; `claim` is true only the first time an id is seen. */
export interface ReplayCache {
  /** Records `requestId` for `ttlMs`; false when it was already recorded. */
  claim(requestId: string, ttlMs: number): Promise<boolean>;
}

/** The bot's key prefix (`redis.prefix`): letters, digits, `_ . -`. */
const KEY_PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
/** Most ids the in-memory cache keeps; the oldest is dropped beyond this. */
const MAX_MEMORY_IDS = 100_000;

/** A fixed-length key part for an id of up to 512 characters. */
function digest(requestId: string): string {
  return createHash("sha256").update(requestId).digest("base64url");
}

/**
 * Ids in Redis as `<prefix>:voice:seen:<sha256(id)>`, one key each (any Cluster slot), so every
 * replica sees every other's. Throws OptionsError for a malformed prefix.
 */
export function redisReplayCache(redis: RedisClient, prefix: string): ReplayCache {
  if (!KEY_PREFIX.test(prefix))
    throw new OptionsError(
      `voice replay cache prefix: expected a key prefix such as commodore, found ${JSON.stringify(prefix)}`,
    );
  return {
    async claim(requestId, ttlMs) {
      // Refuse at once rather than wait in ioredis's queue while Redis is away.
      if (redis.status !== "ready") throw new Error(`Redis connection is ${redis.status}`);
      const key = `${prefix}:voice:seen:${digest(requestId)}`;
      return (await redis.set(key, "1", "PX", ttlMs, "NX")) === "OK";
    },
  };
}

/** Ids in this process's memory, for a webhook without Redis. */
export class MemoryReplayCache implements ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async claim(requestId: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const key = digest(requestId);
    const expires = this.seen.get(key);
    if (expires !== undefined && expires > now) return false;
    this.seen.delete(key);
    this.seen.set(key, now + ttlMs);
    for (const [k, at] of this.seen) {
      if (at > now && this.seen.size <= MAX_MEMORY_IDS) break;
      this.seen.delete(k);
    }
    return true;
  }
}
