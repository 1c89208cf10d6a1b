/**
 * `cancel <job>`: stops a running job. No new batch of a rollout starts, agents get a signed
 * cancel and kill the provider's process group, and the job's hosts end `cancelled`. The job's
 * requester may cancel it; anyone else needs a role granting `cancel`. Anonymous callers never
 * may. The audit line of the `cancel` names the canceller, the job record names them too.
 */
import { setTimeout as delay } from "node:timers/promises";
import { CommodoreError } from "../../../lib/errors.ts";
import { ANONYMOUS_ID } from "../../identity/directory.ts";
import type { JobCanceller } from "../../jobs/cancel.ts";
import { JOB_ID_PATTERN } from "../../jobs/redis-store.ts";
import type { JobRecord, JobStore } from "../../jobs/types.ts";
import type { Policy } from "../../permissions/policy.ts";
import { BadArgumentError, NotFoundError, PermissionDeniedError } from "../errors.ts";
import type { CommandSpec, RunContext, RunOutcome } from "../types.ts";

/** Name of the command, which is also the grant that lets a role cancel anyone's job. */
export const CANCEL_COMMAND = "cancel";
/** How long `cancel` waits for the job to end before answering that it is still stopping. */
export const CANCEL_WAIT_MS = 8_000;
const POLL_MS = 100;

/** Timing of {@link cancelCommand}'s wait for the job to end. */
export interface CancelTiming {
  readonly waitMs: number;
  readonly pollMs: number;
}

const DEFAULT_TIMING: CancelTiming = { waitMs: CANCEL_WAIT_MS, pollMs: POLL_MS };

/** The job once it is no longer running, or its last state when `waitMs` ran out. */
async function settled(store: JobStore, id: string, timing: CancelTiming): Promise<JobRecord> {
  const deadline = Date.now() + timing.waitMs;
  for (;;) {
    const job = await store.get(id);
    if (job === undefined) throw new NotFoundError(`job ${id} is gone`);
    if (job.state !== "running" || Date.now() >= deadline) return job;
    await delay(timing.pollMs);
  }
}

/** `job j… (fleet uptime) cancelled by alice: 3 cancelled, 2 ok` */
function outcomeLine(job: JobRecord, by: string): string {
  const head = `job ${job.id} (${job.text})`;
  if (job.state === "running")
    return `${head}: cancel sent by ${by}, but the job has not ended yet — \`job ${job.id}\` shows how it ends (a job whose bot was restarted mid-run stays "running" until it expires)`;
  const fleet = job.result?.kind === "fleet" ? job.result.fleet.summary : undefined;
  const counts =
    fleet === undefined
      ? ""
      : `: ${[
          `${fleet.cancelled ?? 0} cancelled`,
          ...(fleet.ok > 0 ? [`${fleet.ok} ok`] : []),
          ...(fleet.failed > 0 ? [`${fleet.failed} failed`] : []),
        ].join(", ")}`;
  return job.state === "cancelled"
    ? `${head} cancelled by ${job.cancelledBy ?? by}${counts}`
    : `${head} ended ${job.state} before the cancel took effect${counts}`;
}

/** Creates the `cancel` command. */
export function cancelCommand(
  store: JobStore,
  canceller: JobCanceller,
  policy: Policy,
  timing: CancelTiming = DEFAULT_TIMING,
): CommandSpec {
  return {
    name: CANCEL_COMMAND,
    aliases: [],
    summary: "stop a running job (yours, or anyone's with a role granting cancel)",
    usage: "cancel <job>",
    examples: ["cancel j3fa9c01b7e42"],
    args: [{ name: "job", kind: "word", required: true, help: "the job id, e.g. j3fa9c01b7e42" }],
    takesWhere: false,
    // Everyone may cancel their own jobs; other people's need a grant, checked in `run`.
    permission: "everyone",
    risk: () => "change",
    async run(ctx: RunContext): Promise<RunOutcome> {
      const id = String(ctx.command.args["job"]);
      if (!JOB_ID_PATTERN.test(id))
        throw new BadArgumentError(`job: expected a job id such as j3fa9c01b7e42, found "${id}"`);
      const job = await store.get(id);
      if (job === undefined) throw new NotFoundError(`no job ${id}`, "`jobs` lists recent jobs");
      const who = ctx.principal.id;
      const own = who !== ANONYMOUS_ID && job.principal === who;
      if (!own && !policy.grants(ctx.principal, CANCEL_COMMAND, "change"))
        throw new PermissionDeniedError(
          `${who} may not cancel job ${id}: ${job.principal} started it`,
          "only the requester, or a role granting cancel, may cancel a job",
        );
      if (job.state !== "running")
        throw new CommodoreError("E_JOB_FINISHED", `job ${id} already ${job.state}`, {
          hint: `\`rerun ${id}\` repeats a fleet job on its failed hosts`,
        });
      await canceller.cancel(id, who);
      const after = await settled(store, id, timing);
      return {
        ok: after.state === "cancelled" || after.state === "running",
        result: { kind: "text", lines: [outcomeLine(after, who)] },
      };
    },
  };
}
