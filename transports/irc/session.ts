/**
 * One invocation's reply stream: turns the bot's events into IRC lines, keeps live progress
 * short and accurate, and moves long results out of the channel (summary + link, full text on
 * request via `more <job>`).
 */
import type { BotEvent, BotSink } from "../../bot/contract.ts";
import { formatConfirm, formatError, formatResult } from "./format/events.ts";
import { ProgressTracker } from "./format/progress.ts";
import { realScheduler, type Scheduler } from "./flood.ts";
import type { OutputCache } from "./output-cache.ts";

/** Results longer than this are not sent in full even by private message. */
export const MAX_PRIVATE_LINES = 200;
/** Show "job … started" only when nothing else was said within this time. */
export const ACCEPT_QUIET_MS = 1_500;

/** Where a session's lines go. Implementations sanitize, split, prefix and queue them. */
export interface SessionOutput {
  /** Lines shown where the command was typed. */
  reply(lines: readonly string[]): void;
}

/** Options for {@link ReplySession}. */
export interface ReplySessionOptions {
  readonly output: SessionOutput;
  /** Result lines allowed in the reply before switching to summary + link. */
  readonly maxLines: number;
  readonly progressIntervalMs: number;
  readonly cache: OutputCache;
  /** The principal whose command this is; `more` always shows them its output. */
  readonly owner: string;
  readonly jobUrl: (jobId: string) => string | undefined;
  /** How the caller asks for the full text, e.g. `!more j42`. */
  readonly moreHint: (jobId: string) => string;
  readonly schedule?: Scheduler;
}

/** Turns one invocation's events into IRC lines. Call {@link close} when the command ends. */
export class ReplySession {
  private jobId: string | undefined;
  private tracker: ProgressTracker | undefined;
  private latestProgress: string | undefined;
  private cancelAccept: (() => void) | undefined;
  private cancelTick: (() => void) | undefined;
  private readonly schedule: Scheduler;

  constructor(private readonly options: ReplySessionOptions) {
    this.schedule = options.schedule ?? realScheduler;
  }

  /** The sink handed to the bot. */
  readonly sink: BotSink = (event) => this.onEvent(event);

  /** Stops timers; later events are still formatted but no more progress ticks happen. */
  close(): void {
    this.cancelAccept?.();
    this.cancelTick?.();
    this.cancelAccept = undefined;
    this.cancelTick = undefined;
  }

  private say(lines: readonly string[]): void {
    this.cancelAccept?.();
    this.cancelAccept = undefined;
    if (lines.length > 0) this.options.output.reply(lines);
  }

  private startTicking(): void {
    if (this.cancelTick) return;
    const tick = (): void => {
      const line = this.tracker?.tick() ?? this.takeLatestProgress();
      if (line !== undefined) this.say([line]);
      this.cancelTick = this.schedule(tick, this.options.progressIntervalMs);
    };
    this.cancelTick = this.schedule(tick, this.options.progressIntervalMs);
  }

  private takeLatestProgress(): string | undefined {
    const line = this.latestProgress;
    this.latestProgress = undefined;
    return line;
  }

  private onEvent(event: BotEvent): void {
    switch (event.type) {
      case "accepted": {
        this.jobId = event.jobId;
        const line = `job ${event.jobId} started: ${event.command}`;
        this.cancelAccept = this.schedule(() => {
          this.cancelAccept = undefined;
          this.say([line]);
        }, ACCEPT_QUIET_MS);
        return;
      }
      case "fleet-progress":
        this.tracker ??= new ProgressTracker();
        this.say(this.tracker.update(event.progress));
        this.startTicking();
        return;
      case "progress":
        if (this.cancelTick === undefined) this.say([event.line]);
        else this.latestProgress = event.line;
        this.startTicking();
        return;
      case "confirm":
        this.say([formatConfirm(event)]);
        return;
      case "error":
        this.close();
        this.say([formatError(event)]);
        return;
      case "result":
        this.close();
        this.showResult(event);
        return;
    }
  }

  private showResult(event: Extract<BotEvent, { type: "result" }>): void {
    const formatted = formatResult(event.result);
    const jobId = event.jobId ?? this.jobId;
    if (jobId !== undefined) this.options.cache.put(jobId, formatted.lines, this.options.owner);
    const total = formatted.lines.length;
    if (total <= this.options.maxLines) return this.say(formatted.lines);
    if (jobId === undefined) {
      const shown = formatted.lines.slice(0, this.options.maxLines - 1);
      return this.say([...shown, `… ${total - shown.length} more lines not shown`]);
    }
    const url = this.options.jobUrl(jobId);
    const more = `say "${this.options.moreHint(jobId)}" for all ${total} lines by private message`;
    this.say([formatted.summary, url === undefined ? more : `full output: ${url} (or ${more})`]);
  }
}
