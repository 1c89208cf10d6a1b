/**
 * The inner steps of the chain: parse, authorize, find targets, create the job, execute.
 */
import { CommodoreError } from "../../lib/errors.ts";
import type { Counter, Histogram } from "../../lib/metrics.ts";
import type { BotEvent } from "../contract.ts";
import { parseCommand } from "../commands/parse.ts";
import type { CommandRegistry } from "../commands/registry.ts";
import type { JobStore } from "../jobs/types.ts";
import { newJobId } from "../jobs/redis-store.ts";
import type { ApprovalRule, Policy } from "../permissions/policy.ts";
import { selectNodes } from "../../executors/fleet/index.ts";
import { cancellationOf } from "../../executors/executor.ts";
import type { JobCanceller } from "../jobs/cancel.ts";
import type { ParsedCommand } from "../commands/types.ts";
import type { BotContext, Middleware } from "./context.ts";

const MS_PER_SECOND = 1_000;

/** Parses the invocation text into a command. */
export function parseStep(registry: CommandRegistry): Middleware {
  return async (ctx, next) => {
    ctx.command = parseCommand(ctx.invocation.text, registry);
    await next();
  };
}

/** The facts of the named hosts (those the fleet knows), for blast-radius rules. */
export type HostFacts = (
  hostnames: readonly string[],
) => Promise<ReadonlyArray<{ readonly hostname: string; readonly facts: Facts }>>;

type Facts = Readonly<Record<string, string>>;

/** Why `rule` wants a second person for a command on `targets`, or undefined. */
async function approvalReason(
  rule: ApprovalRule,
  targets: readonly string[],
  hostFacts: HostFacts | undefined,
): Promise<string | undefined> {
  if (rule.hostsOver !== undefined && targets.length > rule.hostsOver)
    return `it touches ${targets.length} hosts (more than ${rule.hostsOver})`;
  const where = rule.where;
  if (where === undefined || targets.length === 0) return undefined;
  const terms = Object.entries(where);
  const described = terms.map(([k, v]) => `${k}=${v}`).join(" ");
  // Unknown facts cannot prove a host harmless: without them, the rule applies.
  if (hostFacts === undefined) return `it may touch ${described} hosts`;
  const hit = selectNodes({ all: false, node_facts: { ...where } }, await hostFacts(targets))[0];
  return hit === undefined ? undefined : `it touches ${described} hosts (${hit.hostname})`;
}

/** Checks the caller's grants, applies pinned arguments and targets, then finds the targets. */
export function authorizeStep(
  policy: Policy,
  dangerousHostThreshold: number,
  hostFacts?: HostFacts,
): Middleware {
  return async (ctx, next) => {
    const cmd = ctx.command;
    if (cmd === undefined || ctx.confirmedBy !== undefined) return await next();
    // The risk of the command as the grant leaves it: a pinned value may raise it.
    const {
      command: authorized,
      approval,
      risk,
    } = policy.authorizeGrant(ctx.requester, cmd, cmd.spec.risk(cmd));
    ctx.command = authorized;
    ctx.risk = risk;
    if (authorized.spec.targets) {
      const targets = await authorized.spec.targets(authorized);
      ctx.targets = targets;
      if (targets.length > dangerousHostThreshold) ctx.risk = "dangerous";
      const reason =
        approval === undefined ? undefined : await approvalReason(approval, targets, hostFacts);
      if (reason !== undefined) ctx.approval = reason;
    }
    await next();
  };
}

/** Metrics the job steps update. */
export interface JobMetrics {
  readonly jobs: Counter;
  readonly jobSeconds: Histogram;
}

/**
 * True when the invocation becomes a job: it may change something, or it touches hosts (a
 * fleet read has progress, a result worth a link, and can be rerun). A read that touches no
 * host (`jobs`, `job <id>`, `nodes`, `nodes pending`, `audit`, `help`) answers directly and
 * writes nothing but its audit line, so reading the job list never grows it.
 */
export function recordsJob(ctx: BotContext): boolean {
  return ctx.risk !== "read" || (ctx.targets?.length ?? 0) > 0;
}

/** Runs a read that touches no host: no job record, no `accepted` event, just the answer. */
async function answer(ctx: BotContext, cmd: ParsedCommand, run: Run): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort(ctx.signal.reason);
  ctx.signal.addEventListener("abort", stop, { once: true });
  try {
    const outcome = await run.call(cmd.spec, {
      invocation: ctx.invocation,
      principal: ctx.requester,
      command: cmd,
      // Never stored: commands that touch no host do not use it.
      jobId: newJobId(),
      sink: ctx.sink,
      signal: controller.signal,
    });
    ctx.outcome = outcome.ok ? "ok" : "failed";
    ctx.sink({ type: "result", ok: outcome.ok, result: outcome.result });
  } finally {
    ctx.signal.removeEventListener("abort", stop);
  }
}

type Run = NonNullable<ParsedCommand["spec"]["run"]>;

/**
 * Creates the job, runs the command, records progress and the result. The job's signal is its
 * own (`cancel <job>` aborts it through `canceller`) and follows the bot's shutdown; a job a
 * person cancelled ends `cancelled`, naming who. Reads that touch no host run without a job
 * ({@link recordsJob}).
 */
export function executeStep(
  store: JobStore,
  metrics: JobMetrics,
  canceller: JobCanceller,
): Middleware {
  return async (ctx) => {
    const cmd = ctx.command;
    if (cmd === undefined) return;
    const run = cmd.spec.run;
    if (run === undefined)
      throw new CommodoreError("E_INTERNAL", `"${cmd.spec.name}" cannot run on its own`);
    if (!recordsJob(ctx)) return await answer(ctx, cmd, run);
    const jobId = newJobId();
    const inv = ctx.invocation;
    await store.create({
      id: jobId,
      text: ctx.commandText ?? inv.text,
      command: cmd.spec.name,
      principal: ctx.requester.id,
      transport: inv.transport,
      state: "running",
      createdAt: new Date().toISOString(),
      ...(ctx.targets === undefined ? {} : { targets: ctx.targets }),
      ...(ctx.confirmedBy === undefined ? {} : { confirmedBy: ctx.confirmedBy }),
      ...(ctx.rerunOf === undefined ? {} : { rerunOf: ctx.rerunOf }),
    });
    ctx.jobId = jobId;
    const caller = ctx.sink;
    let recording = Promise.resolve();
    const sink = (event: BotEvent) => {
      caller(event);
      recording = recording.then(() => store.addEvent(jobId, event)).catch(() => undefined);
    };
    ctx.sink = sink;
    sink({ type: "accepted", jobId, command: cmd.spec.name });
    const started = Date.now();
    const running = canceller.track(jobId, ctx.signal);
    try {
      const outcome = await run.call(cmd.spec, {
        invocation: inv,
        principal: ctx.requester,
        command: cmd,
        jobId,
        sink,
        signal: running.signal,
      });
      await recording;
      const cancel = cancellationOf(running.signal);
      const state = cancel !== undefined ? "cancelled" : outcome.ok ? "succeeded" : "failed";
      await store.finish(jobId, {
        state,
        result: outcome.result,
        finishedAt: new Date().toISOString(),
        ...(cancel === undefined ? {} : { cancelledBy: cancel.by }),
      });
      ctx.outcome = outcome.ok ? "ok" : "failed";
      metrics.jobs.inc({ command: cmd.spec.name, state });
      caller({ type: "result", jobId, ok: outcome.ok, result: outcome.result });
    } catch (err) {
      await recording;
      const error =
        err instanceof CommodoreError
          ? { code: err.code, message: err.message }
          : { code: "E_INTERNAL", message: "internal error" };
      await store.finish(jobId, { state: "failed", error, finishedAt: new Date().toISOString() });
      metrics.jobs.inc({ command: cmd.spec.name, state: "failed" });
      throw err;
    } finally {
      running.release();
      metrics.jobSeconds.observe((Date.now() - started) / MS_PER_SECOND, {
        command: cmd.spec.name,
      });
    }
  };
}
