/**
 * Trust-on-first-use pins: the first key seen for an address in an allowed network is stored
 * in Redis, sealed by the controller, and every later run must present the same key.
 */
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { StateSealer } from "../../../lib/seal.ts";
import { TamperedPinError } from "../errors.ts";
import { parseHostKey, type HostKey } from "./host-key.ts";

/** Where TOFU pins live. */
export interface HostKeyPins {
  /** The key pinned for `name` (a known_hosts host field), if any. */
  get(name: string): Promise<HostKey | undefined>;
  /** Pins `key` unless a key is already pinned; returns whichever key is pinned afterwards. */
  pin(name: string, key: HostKey): Promise<HostKey>;
}

/** Record kind of a TOFU pin in its seal. */
export const TOFU_PIN_KIND = "provision-tofu";

/**
 * Pins stored as `<prefix>tofu:<name>`, each sealed by the controller (lib/seal.ts) and bound
 * to its key. A pin that does not verify (planted, edited, moved) fails the run closed with
 * {@link TamperedPinError} instead of being trusted or silently replaced by a new first use.
 */
export function createRedisPins(
  redis: RedisClient,
  prefix: string,
  sealer: StateSealer,
): HostKeyPins {
  const keyOf = (name: string) => `${prefix}tofu:${name}`;
  const read = async (name: string) => {
    const key = keyOf(name);
    const raw = await redis.get(key);
    if (raw === null) return undefined;
    const opened = sealer.open<string>(TOFU_PIN_KIND, key, raw);
    const pinned =
      opened.ok && typeof opened.value === "string" ? parseHostKey(opened.value) : undefined;
    if (!pinned) throw new TamperedPinError(name, key);
    return pinned;
  };
  return {
    get: read,
    async pin(name, key) {
      const line = `${key.type} ${key.base64}`;
      await redis.set(keyOf(name), sealer.seal(TOFU_PIN_KIND, keyOf(name), line), "NX");
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
