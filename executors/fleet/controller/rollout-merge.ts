/** Folds the per-host results of a batched rollout into one {@link FleetResult}. */
import type { FleetRequest, FleetResult, FleetSummary } from "../types.ts";

/** What the rollout knows beyond the individual results. */
export interface RolloutTotals {
  /** Hosts the rollout targeted. */
  readonly expected: number;
  /** Hosts it never started. */
  readonly skipped: readonly string[];
  readonly durationMs: number;
  readonly stoppedReason?: string;
}

const COUNTS = ["acked", "noop", "ok", "failed", "noAck", "noResult", "unexpected"] as const;

/** One result for the whole rollout: hosts sorted, counts summed, request ids joined. */
export function mergeResults(
  request: FleetRequest,
  results: readonly FleetResult[],
  totals: RolloutTotals,
): FleetResult {
  const counts = Object.fromEntries(
    COUNTS.map((k) => [k, results.reduce((n, r) => n + r.summary[k], 0)]),
  ) as Record<(typeof COUNTS)[number], number>;
  const summary: FleetSummary = {
    ...counts,
    expected: totals.expected,
    durationMs: totals.durationMs,
    ...(totals.skipped.length > 0 ? { skipped: totals.skipped.length } : {}),
  };
  return {
    requestId: results.map((r) => r.requestId).join(","),
    provider: request.provider,
    args: request.args,
    where: request.where,
    hosts: results.flatMap((r) => r.hosts).sort((a, b) => a.hostname.localeCompare(b.hostname)),
    summary,
    replies: results.flatMap((r) => r.replies),
    ...(totals.skipped.length > 0 ? { skipped: [...totals.skipped].sort() } : {}),
    ...(totals.stoppedReason === undefined ? {} : { stoppedReason: totals.stoppedReason }),
  };
}
