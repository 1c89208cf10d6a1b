/** Folds the per-host results of a batched rollout into one {@link FleetResult}. */
import type { FleetRequest, FleetResult, FleetSummary, HostResult } from "../types.ts";

/** What the rollout knows beyond the individual results. */
export interface RolloutTotals {
  /** Hosts the rollout targeted. */
  readonly expected: number;
  /** Hosts it never started because it stopped after failures (or the controller shut down). */
  readonly skipped: readonly string[];
  /** Hosts a cancel kept from starting, as results. */
  readonly cancelled: readonly HostResult[];
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
  const hosts = [...results.flatMap((r) => r.hosts), ...totals.cancelled].sort((a, b) =>
    a.hostname.localeCompare(b.hostname),
  );
  const cancelled = hosts.filter((h) => h.status === "cancelled").length;
  const absent = hosts.filter((h) => h.status === "absent").length;
  const summary: FleetSummary = {
    ...counts,
    expected: totals.expected,
    durationMs: totals.durationMs,
    ...(totals.skipped.length > 0 ? { skipped: totals.skipped.length } : {}),
    ...(cancelled > 0 ? { cancelled } : {}),
    ...(absent > 0 ? { absent } : {}),
  };
  return {
    requestId: results.map((r) => r.requestId).join(","),
    provider: request.provider,
    args: request.args,
    where: request.where,
    hosts,
    summary,
    replies: results.flatMap((r) => r.replies),
    ...(totals.skipped.length > 0 ? { skipped: [...totals.skipped].sort() } : {}),
    ...(totals.stoppedReason === undefined ? {} : { stoppedReason: totals.stoppedReason }),
  };
}
