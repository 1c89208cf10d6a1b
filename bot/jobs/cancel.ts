/**
 * Cancelling running jobs. Each replica keeps the abort handles of the jobs it runs; a cancel is
 * applied at once when the job runs here and is also broadcast on the pub/sub channel
 * {@link jobCancelChannel}, so the replica that runs the job (when another one took the
 * command) aborts it too. Broadcasts are sealed (lib/seal.ts) and bound to the channel and
 * carry their time: a Redis writer can neither forge a cancel nor replay an old one.
 */
import { CancelRequest } from "../../executors/executor.ts";
import type { Logger } from "../../lib/log.ts";
import type { PubSubBus } from "../../lib/redis/bus.ts";
import type { StateSealer } from "../../lib/seal.ts";
import { JOB_ID_PATTERN } from "./redis-store.ts";

/** Record kind of a cancel broadcast in its seal. */
export const JOB_CANCEL_KIND = "job-cancel";
/** How old (or how far in the future) a cancel broadcast may be and still be applied. */
export const CANCEL_BROADCAST_MAX_AGE_MS = 30_000;

/** The pub/sub channel carrying cancel broadcasts between bot replicas. */
export function jobCancelChannel(prefix: string): string {
  return `${prefix}jobs:cancel`;
}

interface CancelBroadcast {
  readonly jobId: string;
  readonly by: string;
  readonly at: number;
}

/** A job that runs here: its abort handle. */
export interface RunningJob {
  /** Aborted when the job is cancelled (reason {@link CancelRequest}) or the bot stops. */
  readonly signal: AbortSignal;
  /** Forgets the job (call when it finished). */
  release(): void;
}

/** Options of {@link JobCanceller}. */
export interface JobCancellerOptions {
  /** Key prefix, e.g. `commodore:`. */
  readonly prefix: string;
  readonly sealer: StateSealer;
  readonly logger: Logger;
  /** The pub/sub bus shared with other replicas; without one, cancels act on this replica only. */
  readonly bus?: PubSubBus;
  /** Wall clock (ms since the epoch). */
  readonly now?: () => number;
}

/** Abort handles of the jobs this replica runs, and cancels across replicas. */
export class JobCanceller {
  private readonly running = new Map<string, AbortController>();
  private readonly channel: string;
  private readonly now: () => number;
  private listening: Promise<void> | undefined;

  constructor(private readonly options: JobCancellerOptions) {
    this.channel = jobCancelChannel(options.prefix);
    this.now = options.now ?? Date.now;
  }

  /** Subscribes to cancels from other replicas (once; no-op without a bus). */
  async start(): Promise<void> {
    const bus = this.options.bus;
    if (bus === undefined) return;
    this.listening ??= bus.subscribe(this.channel, this.onBroadcast);
    await this.listening;
  }

  /** Stops listening to other replicas. */
  async stop(): Promise<void> {
    if (this.listening === undefined) return;
    this.listening = undefined;
    await this.options.bus?.unsubscribe(this.channel, this.onBroadcast).catch(() => undefined);
  }

  /** Registers job `jobId` as running here; `parent` (the bot's shutdown) aborts it too. */
  track(jobId: string, parent: AbortSignal): RunningJob {
    const controller = new AbortController();
    const onParent = () => controller.abort(parent.reason);
    if (parent.aborted) onParent();
    else parent.addEventListener("abort", onParent, { once: true });
    this.running.set(jobId, controller);
    return {
      signal: controller.signal,
      release: () => {
        parent.removeEventListener("abort", onParent);
        if (this.running.get(jobId) === controller) this.running.delete(jobId);
      },
    };
  }

  /**
   * Cancels job `jobId` on behalf of `by`: here when it runs here, and by a broadcast to the
   * other replicas. Resolves true when this replica ran it.
   */
  async cancel(jobId: string, by: string): Promise<boolean> {
    const local = this.abortLocal(jobId, by);
    const bus = this.options.bus;
    if (!local && bus !== undefined) {
      const message: CancelBroadcast = { jobId, by, at: this.now() };
      await bus.publish(
        this.channel,
        this.options.sealer.seal(JOB_CANCEL_KIND, this.channel, message),
      );
    }
    return local;
  }

  private abortLocal(jobId: string, by: string): boolean {
    const controller = this.running.get(jobId);
    if (controller === undefined) return false;
    if (!controller.signal.aborted) controller.abort(new CancelRequest(by));
    return true;
  }

  private readonly onBroadcast = (raw: string): void => {
    const opened = this.options.sealer.open<Partial<CancelBroadcast> | null>(
      JOB_CANCEL_KIND,
      this.channel,
      raw,
    );
    if (!opened.ok) return;
    const m = opened.value;
    if (
      typeof m?.jobId !== "string" ||
      !JOB_ID_PATTERN.test(m.jobId) ||
      typeof m.by !== "string" ||
      typeof m.at !== "number"
    )
      return this.options.logger.warn("cancel broadcast dropped: malformed", {
        channel: this.channel,
      });
    if (Math.abs(this.now() - m.at) > CANCEL_BROADCAST_MAX_AGE_MS)
      return this.options.logger.warn("cancel broadcast dropped: too old or from the future", {
        jobId: m.jobId,
        ageMs: this.now() - m.at,
      });
    if (this.abortLocal(m.jobId, m.by))
      this.options.logger.info("job cancelled from another replica", { jobId: m.jobId, by: m.by });
  };
}
