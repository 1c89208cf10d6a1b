/**
 * Lines for provisioning: progress while a run is queued and running, the result (whose
 * message is the PLAY RECAP line) when it ends, and a queued job's record for `job prov-12`.
 */
import type {
  ProvisionJob,
  ProvisionProgress,
  ProvisionResult,
} from "../../executors/provision/index.ts";

/** `queued as prov-3 for web01`, `prov-3 started (attempt 1)`, `prov-3 attempt 1: … retry at …`. */
export function provisionProgressLine(progress: ProvisionProgress): string {
  switch (progress.type) {
    case "queued":
      return `queued as ${progress.jobId} for ${progress.host}`;
    case "started":
      return `${progress.jobId} started (attempt ${progress.attempt})`;
    case "retrying":
      return `${progress.jobId} attempt ${progress.attempt}: ${progress.message}; retrying at ${progress.nextAttemptAt}`;
  }
}

function what(r: { playbook: string; check: boolean; host: string }): string {
  return `${r.playbook}${r.check ? " (check)" : ""} on ${r.host}`;
}

/** `prov-3: web on web01 succeeded: ok=3 changed=1 unreachable=0 failed=0 skipped=0 (1 attempt)` */
export function provisionResultLine(result: ProvisionResult): string {
  const attempts = `${result.attempts} attempt${result.attempts === 1 ? "" : "s"}`;
  return `${result.jobId}: ${what(result)} ${result.status}: ${result.message} (${attempts})`;
}

/** A queued job's state, trigger, who asked and (when finished) its outcome. */
export function provisionJobLines(job: ProvisionJob): string[] {
  const lines = [
    `${job.id} ${job.state} ${what(job)} (${job.trigger} by ${job.requestedBy}, ${job.enqueuedAt})`,
  ];
  if (job.nextAttemptAt !== undefined) lines.push(`next attempt at ${job.nextAttemptAt}`);
  const outcome = job.outcome;
  if (outcome !== undefined)
    lines.push(`attempt ${job.attempts}: ${outcome.status}: ${outcome.message}`);
  return lines;
}
