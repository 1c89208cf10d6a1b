/**
 * The state one invocation carries through the bot's middleware chain, and the chain itself
 * (grammY style: each step gets the context and a `next` to call the rest).
 */
import type { BotSink, Invocation, Principal } from "../contract.ts";
import type { AuditOutcome } from "../audit/log.ts";
import type { ParsedCommand, Risk } from "../commands/types.ts";

/** Mutable state of one invocation. */
export interface BotContext {
  readonly invocation: Invocation;
  /** Events for the caller (and, once a job exists, for the job record). */
  sink: BotSink;
  readonly startedAt: number;
  readonly signal: AbortSignal;
  /** The command after parsing and, later, after pinned arguments were applied. */
  command?: ParsedCommand;
  risk?: Risk;
  /** Hosts the command targets, when it targets hosts. */
  targets?: readonly string[];
  /** Why a grant's blast-radius rule wants a second person to confirm (unset: it does not). */
  approval?: string;
  /** The command text the job records, when it is not the invocation's (confirm, rerun). */
  commandText?: string;
  /** The job this invocation reruns. */
  rerunOf?: string;
  /** Whose command runs: the caller, or the requester of a confirmed command. */
  requester: Principal;
  /** Set when this invocation confirms someone's (or one's own) dangerous command. */
  confirmedBy?: string;
  jobId?: string;
  outcome?: AuditOutcome;
  errorCode?: string;
  errorMessage?: string;
}

/** One step of the chain. */
export type Middleware = (ctx: BotContext, next: () => Promise<void>) => Promise<void>;

/** Composes steps into one; each step runs the rest by awaiting `next()`. */
export function compose(steps: readonly Middleware[]): (ctx: BotContext) => Promise<void> {
  return async (ctx) => {
    const run = async (i: number): Promise<void> => {
      const step = steps[i];
      if (step) await step(ctx, () => run(i + 1));
    };
    await run(0);
  };
}
