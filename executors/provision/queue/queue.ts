/**
 * The provisioning queue, kept in Redis so it survives a bot restart.
 *
 * Every trigger enqueues here. Runs are claimed FIFO under a global concurrency cap, a host has
 * at most one pending or running job, unreachable hosts are retried with exponential backoff,
 * and jobs whose worker died (heartbeat expired) are put back at the head of the queue.
 * What a job runs (its spec) is sealed with the controller key: a planted or edited job is
 * finished as `refused` without running (see codec.ts).
 */
import { randomUUID } from "node:crypto";
import { errorMessage } from "../../../lib/errors.ts";
import type { Logger } from "../../../lib/log.ts";
import type { MetricsRegistry } from "../../../lib/metrics.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { SealVerifyReason, StateSealer } from "../../../lib/seal.ts";
import { InvalidHostError, RunAlreadyPendingError, UnknownJobError } from "../errors.ts";
import { endNotice, silentNotifier, startNotice, type Notifier } from "../notifier.ts";
import type { PlaybookRunner } from "../runner/run.ts";
import type { ProvisionJob, ProvisionJobSpec, RunOutcome } from "../types.ts";
import { backoffDelay } from "../../../lib/backoff.ts";
import { validateSpec } from "./codec.ts";
import { createQueueMetrics, type QueueMetrics } from "./metrics.ts";
import { JobStore, type Claimed } from "./store.ts";

/** How often workers look for runnable jobs when nothing woke them. */
export const DEFAULT_POLL_MS = 250;
const HEARTBEATS_PER_LEASE = 3;
const MS_PER_S = 1_000;

/** The outcome of a claimed job whose stored spec was refused: it is finished, never run. */
function refusal(reason: SealVerifyReason): RunOutcome {
  return {
    status: "refused",
    message: `job record failed verification (${reason}); not run`,
    durationMs: 0,
  };
}

/** Options of {@link ProvisionQueue}. */
export interface ProvisionQueueOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly concurrency: number;
  readonly retries: { readonly max: number; readonly baseMs: number; readonly capMs: number };
  /** A worker whose heartbeat is older than this is presumed dead. */
  readonly leaseMs: number;
  readonly run: PlaybookRunner;
  /** Seals specs and outcomes (the controller key's sealer, shared by every bot process). */
  readonly sealer: StateSealer;
  readonly logger: Logger;
  readonly notifier?: Notifier;
  readonly metrics?: MetricsRegistry;
  /** Extra checks at enqueue time (playbook exists, extra vars allowed); throws to refuse. */
  readonly validate?: (spec: ProvisionJobSpec) => void;
  readonly pollMs?: number;
}

/** The Redis-backed provisioning queue and its workers. */
export class ProvisionQueue {
  /** This process's worker id (owner of the jobs it runs). */
  readonly workerId = `w-${randomUUID()}`;
  private readonly store: JobStore;
  private readonly log: Logger;
  private readonly notifier: Notifier;
  private readonly metrics: QueueMetrics;
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  /** The claim loop in progress, if any. */
  private pump: Promise<void> | undefined;
  private pumpAgain = false;

  constructor(private readonly options: ProvisionQueueOptions) {
    this.store = new JobStore(options.redis, options.prefix, options.sealer);
    this.log = options.logger.child({ component: "provision-queue", worker: this.workerId });
    this.notifier = options.notifier ?? silentNotifier;
    this.metrics = createQueueMetrics(options.metrics, () => this.active.size);
  }

  /** Queues a run; throws RunAlreadyPendingError when the host already has one. */
  async enqueue(request: ProvisionJobSpec): Promise<{ jobId: string }> {
    const checked = validateSpec(request);
    if ("error" in checked) {
      throw new InvalidHostError(request.host, `request invalid: ${checked.error}`);
    }
    const spec = checked.spec;
    this.options.validate?.(spec);
    const { created, id } = await this.store.add(spec);
    if (!created) throw new RunAlreadyPendingError(spec.host, id);
    this.metrics.enqueued.inc({ trigger: spec.trigger });
    this.log.info("provision queued", { jobId: id, host: spec.host, playbook: spec.playbook });
    this.kick();
    return { jobId: id };
  }

  /** The job with this id, or undefined. */
  async get(jobId: string): Promise<ProvisionJob | undefined> {
    return await this.store.get(jobId);
  }

  /** Like {@link get} but throws UnknownJobError. */
  async status(jobId: string): Promise<ProvisionJob> {
    const job = await this.store.get(jobId);
    if (!job) throw new UnknownJobError(jobId);
    return job;
  }

  /** The id of the host's pending or running job, if any. */
  async activeJobFor(host: string): Promise<string | undefined> {
    return await this.store.activeJobFor(host);
  }

  /** Puts back jobs whose worker died; returns their ids. Called by start and periodically. */
  async recover(): Promise<string[]> {
    const ids = await this.store.recover(this.workerId);
    if (ids.length > 0) {
      this.metrics.recovered.inc({}, ids.length);
      this.log.warn("provision jobs recovered from a dead worker", { jobIds: ids });
      this.kick();
    }
    return ids;
  }

  /** Starts heartbeats, recovery and the workers. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { leaseMs } = this.options;
    await this.store.heartbeat(this.workerId, leaseMs);
    await this.recover();
    const beat = Math.max(1, Math.floor(leaseMs / HEARTBEATS_PER_LEASE));
    this.every(beat, () => this.store.heartbeat(this.workerId, leaseMs));
    this.every(leaseMs, () => this.recover());
    this.every(this.options.pollMs ?? DEFAULT_POLL_MS, async () => this.kick());
    this.kick();
  }

  /**
   * Stops the workers: in-flight runs are cancelled and their jobs handed back to the queue,
   * so the next start (here or elsewhere) runs them again.
   */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.pump;
    const inFlight = [...this.active.values()];
    for (const a of inFlight) a.controller.abort();
    await Promise.all(inFlight.map((a) => a.done));
    await this.swallow("release worker", () => this.store.release(this.workerId));
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => void this.swallow("periodic task", task), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private async swallow(what: string, task: () => Promise<unknown>): Promise<void> {
    try {
      await task();
    } catch (err) {
      this.log.warn(`provision queue: ${what} failed`, { error: errorMessage(err) });
    }
  }

  /** Claims and starts runs until the cap is reached or nothing is runnable. */
  private kick(): void {
    if (!this.running) return;
    if (this.pump) {
      this.pumpAgain = true;
      return;
    }
    this.pump = this.swallow("claim", async () => {
      do {
        this.pumpAgain = false;
        while (this.running && this.active.size < this.options.concurrency) {
          const claimed = await this.store.claim(this.options.concurrency, this.workerId);
          if (!claimed) break;
          if (!this.running) {
            // Stopped while claiming: give the job straight back.
            await this.store.recover(this.workerId, claimed.id);
            break;
          }
          this.launch(claimed);
        }
      } while (this.pumpAgain && this.running);
    }).finally(() => {
      this.pump = undefined;
    });
  }

  private launch(claimed: Claimed): void {
    const { id } = claimed;
    const controller = new AbortController();
    const work =
      "spec" in claimed
        ? this.execute(id, claimed.spec, claimed.attempt, controller.signal)
        : this.finish(id, undefined, refusal(claimed.refused), 1);
    const done = work.finally(() => this.active.delete(id));
    this.active.set(id, { controller, done });
    void done.then(() => this.kick());
  }

  private async execute(id: string, spec: ProvisionJobSpec, attempt: number, signal: AbortSignal) {
    this.notifier.notice(startNotice(id, spec, attempt));
    this.log.info("provision started", { jobId: id, host: spec.host, attempt });
    let outcome: RunOutcome;
    try {
      outcome = await this.options.run(spec, { jobId: id, attempt, signal });
    } catch (err) {
      outcome = { status: "error", message: errorMessage(err), durationMs: 0 };
    }
    if (signal.aborted) {
      await this.swallow("hand back", () => this.store.recover(this.workerId, id));
      this.log.info("provision run handed back on shutdown", { jobId: id, host: spec.host });
      return;
    }
    await this.finish(id, spec, outcome, attempt);
  }

  private async finish(
    id: string,
    spec: ProvisionJobSpec | undefined,
    outcome: RunOutcome,
    attempt: number,
  ): Promise<void> {
    const { retries } = this.options;
    const retry = outcome.status === "unreachable" && attempt <= retries.max;
    // Jittered, so hosts that failed together are not all retried in the same instant.
    const delay = retry ? backoffDelay(attempt - 1, retries) : undefined;
    const retryAt = delay === undefined ? undefined : new Date(Date.now() + delay);
    await this.swallow("finish", async () => {
      const ours = await this.store.finish(id, spec?.host ?? "", this.workerId, outcome, retryAt);
      if (!ours) this.log.warn("provision job was taken over; result dropped", { jobId: id });
    });
    this.metrics.finished.inc({ status: retry ? "retrying" : outcome.status });
    this.metrics.duration.observe(outcome.durationMs / MS_PER_S);
    if (spec) this.notifier.notice(endNotice(id, spec, outcome, delay));
    this.log.info("provision finished", {
      jobId: id,
      status: outcome.status,
      message: outcome.message,
      retryInMs: delay,
    });
  }
}
