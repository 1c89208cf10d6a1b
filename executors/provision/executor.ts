/**
 * The `provision` executor: the bot's `provision <host> [playbook]` command lands here, is
 * queued like every other trigger, and the executor follows the job to its end.
 */
import { CommodoreError } from "../../lib/errors.ts";
import { sleepUnlessAborted } from "../../lib/sleep.ts";
import type { Executor } from "../executor.ts";
import { findHosts, type HostDirectory } from "./hosts.ts";
import { choosePlaybook, type PlaybookDefaults } from "./playbooks.ts";
import type { ProvisionQueue } from "./queue/queue.ts";
import {
  isFinalState,
  type ProvisionJob,
  type ProvisionProgress,
  type ProvisionRequest,
  type ProvisionResult,
} from "./types.ts";

/** How often the executor looks at its job. */
export const DEFAULT_FOLLOW_MS = 500;

/** Options of {@link createProvisionExecutor}. */
export interface ProvisionExecutorOptions {
  readonly queue: Pick<ProvisionQueue, "enqueue" | "status">;
  readonly directory: HostDirectory;
  readonly defaults: PlaybookDefaults;
  readonly followMs?: number;
}

function resultOf(job: ProvisionJob): ProvisionResult {
  const outcome = job.outcome;
  const status = isFinalState(job.state) ? job.state : "error";
  return {
    jobId: job.id,
    host: job.host,
    playbook: job.playbook,
    check: job.check,
    status,
    attempts: job.attempts,
    message: outcome?.message ?? status,
    ...(outcome?.recap ? { recap: outcome.recap } : {}),
    ...(outcome?.logFile ? { logFile: outcome.logFile } : {}),
  };
}

/** Creates the executor; it queues the run and resolves when the job is final. */
export function createProvisionExecutor(
  options: ProvisionExecutorOptions,
): Executor<ProvisionRequest, ProvisionResult, ProvisionProgress> {
  const closing = new AbortController();
  const followMs = options.followMs ?? DEFAULT_FOLLOW_MS;
  return {
    name: "provision",
    async execute(request, context) {
      const matches = findHosts(await options.directory.list(), request.host);
      const known = matches.length === 1 ? matches[0] : undefined;
      const playbook = choosePlaybook(options.defaults, request.playbook, known?.facts);
      if (playbook === undefined) {
        throw new CommodoreError(
          "E_PROVISION_NO_PLAYBOOK",
          `no playbook given for ${request.host}`,
          {
            hint: "name one (`provision <host> <playbook>`) or configure provision.defaultPlaybook / firstBoot.map",
          },
        );
      }
      const { jobId } = await options.queue.enqueue({
        host: known?.hostname ?? request.host,
        playbook,
        trigger: "command",
        check: request.check ?? false,
        requestedBy: context.principalId,
        ...(request.extraVars ? { extraVars: request.extraVars } : {}),
      });
      context.progress({ type: "queued", jobId, host: known?.hostname ?? request.host });
      const signal = AbortSignal.any([context.signal, closing.signal]);
      let seen = { state: "pending", attempts: 0 };
      for (;;) {
        const job = await options.queue.status(jobId);
        if (isFinalState(job.state)) return resultOf(job);
        if (
          job.state === "running" &&
          (seen.state !== "running" || job.attempts !== seen.attempts)
        ) {
          context.progress({ type: "started", jobId, attempt: job.attempts });
        }
        if (job.state === "retrying" && seen.state !== "retrying" && job.nextAttemptAt) {
          context.progress({
            type: "retrying",
            jobId,
            attempt: job.attempts,
            message: job.outcome?.message ?? "unreachable",
            nextAttemptAt: job.nextAttemptAt,
          });
        }
        seen = { state: job.state, attempts: job.attempts };
        await sleepUnlessAborted(followMs, signal);
        if (signal.aborted) {
          throw new CommodoreError("E_PROVISION_DETACHED", `stopped following job ${jobId}`, {
            hint: "the run continues in the queue; its notice reports the result",
          });
        }
      }
    },
    async close() {
      closing.abort();
    },
  };
}
