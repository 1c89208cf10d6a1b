/**
 * Turning an ansible-playbook process result into a run outcome.
 */
import type { RunOutcome } from "../types.ts";
import type { ProcessResult } from "./process.ts";
import { formatRecap, type PlaybookReport } from "./recap.ts";

const HOST_KEY_FAILURE = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/;
const LAST_LINE_MAX = 300;

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return (lines.at(-1) ?? "").slice(0, LAST_LINE_MAX);
}

/** Classifies one finished ansible-playbook process. */
export function outcomeOf(
  result: ProcessResult,
  report: PlaybookReport | undefined,
  host: string,
  options: { readonly ansiblePlaybook: string; readonly timeoutMs: number },
  durationMs: number,
  logFile: string,
): RunOutcome {
  const base = { durationMs, logFile };
  if (result.spawnError !== undefined) {
    return {
      ...base,
      status: "error",
      message: `cannot start ${options.ansiblePlaybook} (${result.spawnError}): install ansible-core or set provision.ansiblePlaybook`,
    };
  }
  if (result.timedOut) {
    return {
      ...base,
      status: "timeout",
      message: `killed after ${options.timeoutMs} ms (provision.timeoutMs)`,
    };
  }
  if (result.aborted) return { ...base, status: "cancelled", message: "run cancelled" };
  if (!report) {
    const why = lastLine(result.stderrTail) || `exit code ${String(result.exitCode)}`;
    return { ...base, status: "error", message: `ansible-playbook produced no recap: ${why}` };
  }
  const { recap } = report;
  const summary = formatRecap(recap);
  if (recap.unreachable > 0) {
    if (HOST_KEY_FAILURE.test(result.stdout)) {
      return {
        ...base,
        recap,
        status: "refused",
        message: `host key verification failed for ${host}: it does not match the pinned key; refusing (${summary})`,
      };
    }
    return { ...base, recap, status: "unreachable", message: summary };
  }
  if (recap.failed > 0) return { ...base, recap, status: "failed", message: summary };
  return { ...base, recap, status: "succeeded", message: summary };
}
