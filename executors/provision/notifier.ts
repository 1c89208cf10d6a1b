/**
 * One-line notices about runs (the composition root sends them to the configured IRC channels).
 */
import type { ProvisionJobSpec, RunOutcome } from "./types.ts";

/** Receives one-line notices. Must not throw. */
export interface Notifier {
  notice(line: string): void;
}

/** A notifier that drops everything. */
export const silentNotifier: Notifier = { notice: () => undefined };

function what(spec: ProvisionJobSpec): string {
  return `${spec.playbook}${spec.check ? " (check)" : ""} on ${spec.host}`;
}

/** `provision prov-7: web on web01 started (attempt 1, callback)`. */
export function startNotice(jobId: string, spec: ProvisionJobSpec, attempt: number): string {
  return `provision ${jobId}: ${what(spec)} started (attempt ${attempt}, ${spec.trigger})`;
}

/** `provision prov-7: web on web01 succeeded: ok=3 changed=1 ...` or a retry line. */
export function endNotice(
  jobId: string,
  spec: ProvisionJobSpec,
  outcome: RunOutcome,
  retryInMs: number | undefined,
): string {
  const head = `provision ${jobId}: ${what(spec)} ${outcome.status}: ${outcome.message}`;
  return retryInMs === undefined ? head : `${head}; retrying in ${Math.round(retryInMs / 1_000)} s`;
}
