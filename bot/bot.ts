/**
 * The bot: one middleware chain that every transport's invocations go through.
 *
 * audit → errors → parse → confirm (resolve `confirm <code>`) → authorize (grants, pinned
 * arguments and targets, host threshold) → confirm gate (park dangerous commands) → job and
 * execute. Every invocation, refused or not, ends in exactly one audit line.
 */
import { CommodoreError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { MetricsRegistry } from "../lib/metrics.ts";
import type { AuditLog } from "./audit/log.ts";
import { parseCommand } from "./commands/parse.ts";
import type { CommandRegistry } from "./commands/registry.ts";
import type { Risk } from "./commands/types.ts";
import type { ConfirmStore } from "./confirm/store.ts";
import type { BotEvent, BotSink, CommandHandler, Invocation } from "./contract.ts";
import type { JobCanceller } from "./jobs/cancel.ts";
import type { JobStore } from "./jobs/types.ts";
import type { Policy } from "./permissions/policy.ts";
import { confirmGateStep, resolveConfirmStep } from "./pipeline/confirm.ts";
import { compose, type BotContext } from "./pipeline/context.ts";
import { auditStep, errorStep } from "./pipeline/guard.ts";
import { resolveRerunStep } from "./pipeline/rerun.ts";
import { authorizeStep, executeStep, parseStep, type HostFacts } from "./pipeline/steps.ts";
import { jobReadCheck } from "./commands/job-access.ts";

/** Everything the bot is built from. */
export interface BotDeps {
  readonly registry: CommandRegistry;
  readonly policy: Policy;
  readonly jobs: JobStore;
  /** Abort handles of running jobs (`cancel <job>`). */
  readonly canceller: JobCanceller;
  readonly confirms: ConfirmStore;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Commands targeting more hosts than this need confirmation. */
  readonly dangerousHostThreshold: number;
  /** Whether a different principal must confirm dangerous commands. */
  readonly requireOtherPerson: boolean;
  /** Facts of target hosts, for grants' blast-radius rules (`approval.where`). */
  readonly hostFacts?: HostFacts;
}

/** The transport-neutral command handler. */
export class Bot implements CommandHandler {
  private readonly chain: (ctx: BotContext) => Promise<void>;
  private readonly shutdown = new AbortController();

  constructor(private readonly deps: BotDeps) {
    const m = deps.metrics;
    this.chain = compose([
      auditStep(
        deps.audit,
        m.counter(
          "commodore_commands_total",
          "Commands handled, by command, transport and outcome",
        ),
        m.histogram("commodore_command_duration_seconds", "Time to handle one command"),
      ),
      errorStep(deps.logger),
      parseStep(deps.registry),
      resolveConfirmStep(deps.confirms, deps.registry, deps.policy),
      resolveRerunStep(deps.jobs, deps.registry, jobReadCheck(deps.policy, deps.registry)),
      authorizeStep(deps.policy, deps.dangerousHostThreshold, deps.hostFacts),
      confirmGateStep(deps.confirms, { requireOtherPerson: deps.requireOtherPerson }),
      executeStep(
        deps.jobs,
        {
          jobs: m.counter("commodore_jobs_total", "Jobs finished, by command and state"),
          jobSeconds: m.histogram("commodore_job_duration_seconds", "Job run time"),
        },
        deps.canceller,
      ),
    ]);
  }

  /** The registry, for transports that want command names (e.g. IRC completion). */
  get registry(): CommandRegistry {
    return this.deps.registry;
  }

  /**
   * The risk the bot assigns `text` before it knows the targets: the same parse and
   * `spec.risk` the authorize step uses. Undefined when the text is not a valid command.
   * The host threshold (`dangerous` above `dangerousHostThreshold` hosts) is applied later,
   * when the command runs, and turns into a `confirm` event.
   */
  assessRisk(text: string): Risk | undefined {
    try {
      const command = parseCommand(text, this.deps.registry);
      return command.spec.risk(command);
    } catch (err) {
      if (err instanceof CommodoreError) return undefined;
      throw err;
    }
  }

  async handle(invocation: Invocation, sink: BotSink): Promise<void> {
    const log = this.deps.logger;
    const safeSink: BotSink = (event: BotEvent) => {
      try {
        sink(event);
      } catch (err) {
        log.warn("transport sink threw", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    };
    const ctx: BotContext = {
      invocation,
      sink: safeSink,
      startedAt: Date.now(),
      signal: this.shutdown.signal,
      requester: invocation.principal,
    };
    try {
      await this.chain(ctx);
    } catch (err) {
      log.error("audit write failed", { error: err });
    }
  }

  /** Aborts running jobs; the caller closes executors and stores. */
  stop(): void {
    this.shutdown.abort();
  }
}
