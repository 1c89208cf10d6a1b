/**
 * `limit` and `batch` as a layer over the single-request controller. The layer computes the
 * expected hosts once (with the same matcher the agents use), keeps the first N by hostname
 * for `limit`, and for `batch` runs a Salt-style sliding window: one request per host, addressed
 * by identity, at most `size` at once, a new host starting as soon as one finishes (after the
 * optional pause), and no new host once `stopAfterFailures` hosts did not end `ok`. A cancel
 * starts no new host: those still queued end `cancelled`. Each host's result records when its
 * wave started (`startMs`), so pictures of the job show the waves.
 */
import { randomUUID } from "node:crypto";
import { sleepUnlessAborted } from "../../../lib/sleep.ts";
import { cancellationOf, type ExecutionContext } from "../../executor.ts";
import type {
  FactFilter,
  FleetProgress,
  FleetRequest,
  FleetResult,
  HostAmount,
  HostResult,
  TargetRefinement,
} from "../types.ts";
import { mergeResults } from "./rollout-merge.ts";

/** How silent hosts of a request in flight end when the controller shuts down (not a cancel). */
export const SHUTDOWN_REASON = "stopped: the controller shut down";

/** What the layer needs from the controller underneath. */
export interface RolloutInner {
  execute(request: FleetRequest, ctx: ExecutionContext<FleetProgress>): Promise<FleetResult>;
  expectedHosts(where: FactFilter, refine?: TargetRefinement): Promise<string[]>;
}

/** How many of `total` hosts an amount means: counts are capped, percentages round up (≥ 1). */
export function resolveAmount(amount: HostAmount, total: number): number {
  if (total === 0) return 0;
  if ("count" in amount) return Math.max(1, Math.min(amount.count, total));
  return Math.max(1, Math.min(total, Math.ceil((total * amount.percent) / 100)));
}

/** The first `limit` hosts by hostname (all of them, as given, without a limit). */
export function limitHosts(hosts: readonly string[], limit: HostAmount | undefined): string[] {
  if (limit === undefined) return [...hosts];
  const sorted = [...hosts].sort((a, b) => a.localeCompare(b));
  return sorted.slice(0, resolveAmount(limit, sorted.length));
}

function addressed(request: FleetRequest, identities: readonly string[]): FleetRequest {
  const { limit: _limit, batch: _batch, ...rest } = request;
  return { ...rest, identities };
}

/** The result of a host a cancel kept from starting. */
function notStarted(hostname: string, by: string): HostResult {
  return { hostname, status: "cancelled", short: `cancelled by ${by} before it started` };
}

async function slidingWindow(
  inner: RolloutInner,
  request: FleetRequest,
  hosts: readonly string[],
  ctx: ExecutionContext<FleetProgress>,
): Promise<FleetResult> {
  const plan = request.batch as NonNullable<FleetRequest["batch"]>;
  const window = resolveAmount(plan.size, hosts.length);
  const queue = [...hosts];
  const results: FleetResult[] = [];
  const started = performance.now();
  let failures = 0;
  let acked = 0;
  let done = 0;
  let stoppedReason: string | undefined;
  const total = hosts.length;
  ctx.progress({ kind: "published", requestId: randomUUID(), expected: [...hosts] });
  const progress = (e: FleetProgress): void => {
    if (e.kind === "published") return;
    if (e.kind === "ack") ctx.progress({ ...e, acked: ++acked, expected: total });
    else if (e.kind === "host") ctx.progress({ ...e, done: ++done, expected: total });
    else ctx.progress(e);
  };
  const failed = (h: HostResult) => h.status !== "ok";
  const worker = async (): Promise<void> => {
    while (queue.length > 0 && stoppedReason === undefined && !ctx.signal.aborted) {
      const host = queue.shift() as string;
      const startMs = Math.round(performance.now() - started);
      // Live host events carry their wave's start too, so live pictures place them exactly.
      const waveProgress = (e: FleetProgress): void =>
        progress(e.kind === "host" ? { ...e, result: { ...e.result, startMs } } : e);
      const result = await inner.execute(addressed(request, [host]), {
        ...ctx,
        progress: waveProgress,
      });
      results.push({ ...result, hosts: result.hosts.map((h) => ({ ...h, startMs })) });
      failures += result.hosts.filter(failed).length;
      if (plan.stopAfterFailures !== undefined && failures >= plan.stopAfterFailures)
        stoppedReason ??= `stopped after ${failures} failed host${failures === 1 ? "" : "s"}`;
      if (plan.waitMs && queue.length > 0 && stoppedReason === undefined)
        await sleepUnlessAborted(plan.waitMs, ctx.signal);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const cancel = cancellationOf(ctx.signal);
  const never = cancel === undefined ? [] : queue.splice(0).map((h) => notStarted(h, cancel.by));
  for (const result of never) progress({ kind: "host", result, done: 0, expected: total });
  if (stoppedReason === undefined && ctx.signal.aborted)
    stoppedReason = cancel === undefined ? SHUTDOWN_REASON : `cancelled by ${cancel.by}`;
  return mergeResults(request, results, {
    expected: total,
    cancelled: never,
    skipped: queue,
    durationMs: Math.round(performance.now() - started),
    ...(stoppedReason === undefined ? {} : { stoppedReason }),
  });
}

/** Runs `request` honouring its `limit` and `batch`; plain requests pass straight through. */
export async function rollout(
  inner: RolloutInner,
  request: FleetRequest,
  ctx: ExecutionContext<FleetProgress>,
): Promise<FleetResult> {
  if (request.limit === undefined && request.batch === undefined)
    return await inner.execute(request, ctx);
  const hosts = limitHosts(await inner.expectedHosts(request.where, request), request.limit);
  if (request.batch === undefined || hosts.length === 0)
    return await inner.execute(addressed(request, hosts), ctx);
  return await slidingWindow(inner, request, hosts, ctx);
}

/** Wraps a controller so `execute` honours `limit` and `batch`. */
export function withRollout<T extends RolloutInner>(inner: T): T {
  return { ...inner, execute: (request, ctx) => rollout(inner, request, ctx) };
}
