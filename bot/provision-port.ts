/**
 * The part of provisioning the bot uses: run `provision <host> [playbook]` requests and look
 * up queued jobs (`prov-12`) for `job <id>`. The provisioning package's executor plus its
 * queue satisfy it; tests may pass any object with these methods.
 */
import type { Executor } from "../executors/executor.ts";
import type {
  ProvisionJob,
  ProvisionProgress,
  ProvisionRequest,
  ProvisionResult,
} from "../executors/provision/index.ts";

/** What the bot needs from provisioning. */
export interface ProvisionPort extends Executor<
  ProvisionRequest,
  ProvisionResult,
  ProvisionProgress
> {
  /** A queued, running or finished provisioning job, or undefined when unknown or expired. */
  job(jobId: string): Promise<ProvisionJob | undefined>;
}
