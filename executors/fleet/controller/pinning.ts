/**
 * Which key speaks for which hostname. Two modes:
 * - known hosts file (`hostname keytype base64` lines): only those keys count, nothing is learnt;
 * - trust on first use: the first valid signed registration for a hostname pins its key in the
 *   Redis hash `{prefix}:pins`; a later registration or reply with another key is rejected
 *   (`unpinned_key`) until an operator deletes the pin (`HDEL {commodore}:pins <host>`).
 */
import { readFileSync } from "node:fs";
import type { RedisClient } from "../../../lib/redis/client.ts";
import { CommodoreError } from "../../../lib/errors.ts";
import { parsePublicKeyLine } from "../protocol/keys.ts";

/** The known hosts file is unreadable or has a bad line. */
export class KnownHostsError extends CommodoreError {
  constructor(message: string) {
    super("E_FLEET_KNOWN_HOSTS", message, {
      hint: "each line is `hostname keytype base64` (the agent's host key .pub without comment)",
    });
  }
}

/** Hostname → pinned key line (`type base64`). */
export interface PinStore {
  /** Reloads pins (no-op for a file). */
  refresh(): Promise<void>;
  get(hostname: string): string | undefined;
  /** Pins `keyLine` for `hostname` if nothing is pinned (TOFU); returns the pin now in force. */
  pin(hostname: string, keyLine: string): Promise<string | undefined>;
}

/** Parses a known hosts file into a map. */
export function parseKnownHosts(text: string): Map<string, string> {
  const pins = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [host, type, data] = line.split(/\s+/);
    if (host === undefined || type === undefined || data === undefined)
      throw new KnownHostsError(`line ${i + 1}: expected 3 fields`);
    try {
      pins.set(host, parsePublicKeyLine(`${type} ${data}`).line);
    } catch (err) {
      throw new KnownHostsError(`line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return pins;
}

/** Pins from a file; never learns. */
export function filePinStore(path: string): PinStore {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KnownHostsError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  const pins = parseKnownHosts(text);
  return {
    refresh: async () => undefined,
    get: (host) => pins.get(host),
    pin: async (host) => pins.get(host),
  };
}

/** Trust-on-first-use pins in a Redis hash, cached in memory between refreshes. */
export function redisPinStore(redis: RedisClient, key: string): PinStore {
  let pins = new Map<string, string>();
  return {
    async refresh() {
      pins = new Map(Object.entries(await redis.hgetall(key)));
    },
    get: (host) => pins.get(host),
    async pin(host, keyLine) {
      const known = pins.get(host);
      if (known !== undefined) return known;
      await redis.hsetnx(key, host, keyLine);
      const now = (await redis.hget(key, host)) ?? undefined;
      if (now !== undefined) pins.set(host, now);
      return now;
    },
  };
}
