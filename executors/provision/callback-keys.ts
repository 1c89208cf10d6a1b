/**
 * Per-playbook `host_config_key`s for the provisioning callback, compared in constant time.
 * Only SHA-256 digests are kept in memory; the key itself is never stored or logged.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Logger } from "../../lib/log.ts";
import type { ProvisionOptions } from "./options.ts";

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
/** Compared against when the playbook is unknown, so timing does not reveal which exist. */
const DUMMY = digest("commodore: no such callback playbook");

/** Verifies callback keys. */
export interface CallbackKeys {
  /** Playbooks that accept callbacks. */
  readonly playbooks: readonly string[];
  /** True when `presented` is the key configured for `playbook`. */
  verify(playbook: string, presented: string): boolean;
}

/** Builds the verifier; a key named by a missing env variable disables that playbook. */
export function createCallbackKeys(
  callback: ProvisionOptions["callback"],
  env: NodeJS.ProcessEnv,
  logger: Logger,
): CallbackKeys {
  const digests = new Map<string, Buffer>();
  for (const [playbook, key] of Object.entries(callback.playbooks)) {
    if ("hostConfigKeySha256" in key) {
      digests.set(playbook, Buffer.from(key.hostConfigKeySha256, "hex"));
      continue;
    }
    const value = env[key.hostConfigKeyEnv];
    if (value === undefined || value === "") {
      logger.warn("provision callback disabled: key variable is not set", {
        playbook,
        variable: key.hostConfigKeyEnv,
      });
      continue;
    }
    digests.set(playbook, digest(value));
  }
  return {
    playbooks: [...digests.keys()],
    verify(playbook, presented) {
      const expected = digests.get(playbook);
      const equal = timingSafeEqual(digest(presented), expected ?? DUMMY);
      return expected !== undefined && equal;
    },
  };
}
