/**
 * Trust-on-first-use pins: the first key seen for an address in an allowed network is stored
 * in Redis and every later run must present the same key.
 */
import type { RedisClient } from "../../../lib/redis/client.ts";
import { parseHostKey, type HostKey } from "./host-key.ts";

/** Where TOFU pins live. */
export interface HostKeyPins {
  /** The key pinned for `name` (a known_hosts host field), if any. */
  get(name: string): Promise<HostKey | undefined>;
  /** Pins `key` unless a key is already pinned; returns whichever key is pinned afterwards. */
  pin(name: string, key: HostKey): Promise<HostKey>;
}

/** Pins stored as `<prefix>tofu:<name>` strings. */
export function createRedisPins(redis: RedisClient, prefix: string): HostKeyPins {
  const keyOf = (name: string) => `${prefix}tofu:${name}`;
  const read = async (name: string) => {
    const raw = await redis.get(keyOf(name));
    return raw === null ? undefined : parseHostKey(raw);
  };
  return {
    get: read,
    async pin(name, key) {
      await redis.set(keyOf(name), `${key.type} ${key.base64}`, "NX");
      return (await read(name)) ?? key;
    },
  };
}

/** In-memory pins for tests and single-process use. */
export function createMemoryPins(): HostKeyPins {
  const pins = new Map<string, HostKey>();
  return {
    get: async (name) => pins.get(name),
    async pin(name, key) {
      const existing = pins.get(name);
      if (existing) return existing;
      pins.set(name, key);
      return key;
    },
  };
}
