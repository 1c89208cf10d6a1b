/**
 * First boot: when an agent's signed registration (verified by the fleet registry before it
 * gets here) carries facts that map to a playbook, the host is provisioned once — a Redis
 * `SET NX` marker per hostname makes every later registration a no-op.
 */
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { RedisClient } from "../../lib/redis/client.ts";
import { RunAlreadyPendingError } from "./errors.ts";
import { playbookForFacts, type PlaybookDefaults } from "./playbooks.ts";
import type { ProvisionQueue } from "./queue/queue.ts";
import { checkHost } from "./validate.ts";

/** The parts of a verified registration first boot looks at. */
export interface Registration {
  readonly hostname: string;
  readonly facts: Readonly<Record<string, unknown>>;
}

/** What the trigger did. */
export type FirstBootResult =
  | { readonly status: "queued"; readonly jobId: string; readonly playbook: string }
  | { readonly status: "no-playbook" }
  | { readonly status: "already-done" }
  | { readonly status: "already-pending"; readonly jobId: string };

/** Dependencies of {@link createFirstBootTrigger}. */
export interface FirstBootDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly queue: Pick<ProvisionQueue, "enqueue">;
  readonly defaults: PlaybookDefaults;
  readonly logger: Logger;
}

/** Key of the once-only marker for `hostname`. */
export function firstBootKey(prefix: string, hostname: string): string {
  return `${prefix}firstboot:${hostname}`;
}

/** Returns the trigger to call with every verified registration. */
export function createFirstBootTrigger(
  deps: FirstBootDeps,
): (registration: Registration) => Promise<FirstBootResult> {
  const log = deps.logger.child({ component: "provision-first-boot" });
  return async (registration) => {
    checkHost(registration.hostname);
    const playbook = playbookForFacts(deps.defaults, registration.facts);
    if (playbook === undefined) return { status: "no-playbook" };
    const marker = firstBootKey(deps.prefix, registration.hostname);
    const fresh = await deps.redis.set(marker, new Date().toISOString(), "NX");
    if (fresh !== "OK") return { status: "already-done" };
    try {
      const { jobId } = await deps.queue.enqueue({
        host: registration.hostname,
        playbook,
        trigger: "first-boot",
        check: false,
        requestedBy: `first-boot:${registration.hostname}`,
      });
      log.info("first-boot provisioning queued", { host: registration.hostname, playbook, jobId });
      return { status: "queued", jobId, playbook };
    } catch (err) {
      if (err instanceof RunAlreadyPendingError) {
        return { status: "already-pending", jobId: err.existingJobId };
      }
      // Let a later registration try again.
      await deps.redis.del(marker).catch(() => undefined);
      log.warn("first-boot provisioning not queued", {
        host: registration.hostname,
        error: errorMessage(err),
      });
      throw err;
    }
  };
}
