/**
 * The provisioning queue, kept in Redis so it survives a bot restart.
 *
 * Every trigger enqueues here. Runs are claimed FIFO under a global concurrency cap, a host has
 * at most one pending or running job, unreachable hosts are retried with exponential backoff,
 * and jobs whose worker died (heartbeat expired) are put back at the head of the queue.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { errorMessage } from "../../../lib/errors.ts";
import type { Logger } from "../../../lib/log.ts";
import { RunAlreadyPendingError, UnknownJobError } from "../errors.ts";
import { endNotice, silentNotifier, startNotice, type Notifier } from "../notifier.ts";
import type { PlaybookRunner } from "../runner/run.ts";
import type { ProvisionJob, ProvisionJobSpec, RunOutcome } from "../types.ts";
import { decodeJob, decodeSpec, encodeSpec, retryDelay, validateSpec } from "./codec.ts";
import { JOB_ID, queueKeys, type QueueKeys } from "./keys.ts";
import { CLAIM, ENQUEUE, FINISH, RECOVER } from "./scripts.ts";
import { createQueueMetrics, type QueueMetrics } from "./metrics.ts";
import { InvalidHostError } from "../errors.ts";
import type { MetricsRegistry } from "../../../lib/metrics.ts";

/** How often workers look for runnable jobs when nothing woke them. */
export const DEFAULT_POLL_MS = 250;
/** How long finished job records are kept. */
export const JOB_TTL_SECONDS = 7 * 24 * 3600;
const HEARTBEATS_PER_LEASE = 3;

/** Options of {@link ProvisionQueue}. */
export interface ProvisionQueueOptions {
  readonly redis: Redis;
  readonly prefix: string;
  readonly concurrency: number;
  readonly retries: { readonly max: number; readonly baseMs: number; readonly capMs: number };
  /** A worker whose heartbeat is older than this is presumed dead. */
  readonly leaseMs: number;
  readonly run: PlaybookRunner;
  readonly logger: Logger;
  readonly notifier?: Notifier;
  readonly metrics?: MetricsRegistry;
  /** Extra checks at enqueue time (playbook exists, extra vars allowed); throws to refuse. */
  readonly validate?: (spec: ProvisionJobSpec) => void;
  readonly pollMs?: number;
}

interface Active {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** The Redis-backed provisioning queue and its workers. */
export class ProvisionQueue {
  /** This process's worker id (owner of the jobs it runs). */
  readonly workerId = `w-${randomUUID()}`;
  private readonly keys: QueueKeys;
  private readonly log: Logger;
  private readonly notifier: Notifier;
  private readonly metrics: QueueMetrics;
  private readonly active = new Map<string, Active>();
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private pumping = false;
  private pumpAgain = false;

  constructor(private readonly options: ProvisionQueueOptions) {
    this.keys = queueKeys(options.prefix);
    this.log = options.logger.child({ component: "provision-queue", worker: this.workerId });
    this.notifier = options.notifier ?? silentNotifier;
    this.metrics = createQueueMetrics(options.metrics, () => this.active.size);
  }

  /** Queues a run; throws RunAlreadyPendingError when the host already has one. */
  async enqueue(request: ProvisionJobSpec): Promise<{ jobId: string }> {
    const checked = validateSpec(request);
    if ("error" in checked)
      throw new InvalidHostError(request.host, `request invalid: ${checked.error}`);
    const spec = checked.spec;
    this.options.validate?.(spec);
    const [created, id] = (await this.options.redis.eval(
      ENQUEUE,
      3,
      this.keys.host(spec.host),
      this.keys.seq,
      this.keys.pending,
      this.keys.prefix,
      encodeSpec(spec),
      new Date().toISOString(),
    )) as [number, string];
    if (created !== 1) throw new RunAlreadyPendingError(spec.host, id);
    this.metrics.enqueued.inc({ trigger: spec.trigger });
    this.log.info("provision queued", {
      jobId: id,
      host: spec.host,
      playbook: spec.playbook,
      trigger: spec.trigger,
    });
    this.kick();
    return { jobId: id };
  }

  /** The job with this id, or undefined. */
  async get(jobId: string): Promise<ProvisionJob | undefined> {
    if (!JOB_ID.test(jobId)) return undefined;
    const hash = await this.options.redis.hgetall(this.keys.job(jobId));
    return decodeJob(hash);
  }

  /** Like {@link get} but throws UnknownJobError. */
  async status(jobId: string): Promise<ProvisionJob> {
    const job = await this.get(jobId);
    if (!job) throw new UnknownJobError(jobId);
    return job;
  }

  /** The id of the host's pending or running job, if any. */
  async activeJobFor(host: string): Promise<string | undefined> {
    return (await this.options.redis.get(this.keys.host(host))) ?? undefined;
  }

  /** Puts back jobs whose worker died; returns their ids. Called by start and periodically. */
  async recover(): Promise<string[]> {
    const ids = (await this.options.redis.eval(
      RECOVER,
      2,
      this.keys.running,
      this.keys.pending,
      this.keys.prefix,
      this.workerId,
      "",
    )) as string[];
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
    await this.heartbeat();
    await this.recover();
    const { leaseMs } = this.options;
    this.every(Math.max(1, Math.floor(leaseMs / HEARTBEATS_PER_LEASE)), () => this.heartbeat());
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
    const inFlight = [...this.active.entries()];
    for (const [, a] of inFlight) a.controller.abort();
    await Promise.all(inFlight.map(([, a]) => a.done));
    await this.swallow("release worker", async () => {
      await this.options.redis.del(this.keys.worker(this.workerId));
    });
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => void this.swallow("periodic task", task), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private async heartbeat(): Promise<void> {
    await this.options.redis.set(this.keys.worker(this.workerId), "1", "PX", this.options.leaseMs);
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
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.swallow("claim", async () => {
      try {
        do {
          this.pumpAgain = false;
          while (this.running && this.active.size < this.options.concurrency) {
            if (!(await this.claimOne())) break;
          }
        } while (this.pumpAgain && this.running);
      } finally {
        this.pumping = false;
      }
    });
  }

  private async claimOne(): Promise<boolean> {
    const now = new Date();
    const claimed = (await this.options.redis.eval(
      CLAIM,
      3,
      this.keys.pending,
      this.keys.delayed,
      this.keys.running,
      this.keys.prefix,
      String(this.options.concurrency),
      String(now.getTime()),
      this.workerId,
      now.toISOString(),
    )) as [string, string, number] | null;
    if (!claimed) return false;
    const [id, specText, attempt] = claimed;
    const spec = decodeSpec(specText);
    const controller = new AbortController();
    const done = spec
      ? this.execute(id, spec, attempt, controller.signal)
      : this.finish(id, undefined, {
          status: "error",
          message: "corrupt job record",
          durationMs: 0,
        });
    const entry = { controller, done: done.finally(() => this.active.delete(id)) };
    this.active.set(id, entry);
    void entry.done.then(() => this.kick());
    return true;
  }

  private async execute(id: string, spec: ProvisionJobSpec, attempt: number, signal: AbortSignal) {
    this.notifier.notice(startNotice(id, spec, attempt));
    this.log.info("provision started", {
      jobId: id,
      host: spec.host,
      playbook: spec.playbook,
      attempt,
    });
    let outcome: RunOutcome;
    try {
      outcome = await this.options.run(spec, { jobId: id, attempt, signal });
    } catch (err) {
      outcome = { status: "error", message: errorMessage(err), durationMs: 0 };
    }
    if (signal.aborted) {
      await this.swallow("hand back", async () =>
        this.options.redis.eval(
          RECOVER,
          2,
          this.keys.running,
          this.keys.pending,
          this.keys.prefix,
          this.workerId,
          id,
        ),
      );
      this.log.info("provision run handed back on shutdown", { jobId: id, host: spec.host });
      return;
    }
    await this.finish(id, spec, outcome, attempt);
  }

  private async finish(
    id: string,
    spec: ProvisionJobSpec | undefined,
    outcome: RunOutcome,
    attempt = 1,
  ): Promise<void> {
    const { retries } = this.options;
    const retry = outcome.status === "unreachable" && attempt <= retries.max;
    const delay = retry ? retryDelay(attempt, retries.baseMs, retries.capMs) : undefined;
    const retryAt = delay === undefined ? undefined : new Date(Date.now() + delay);
    await this.swallow("finish", async () => {
      const ours = await this.options.redis.eval(
        FINISH,
        3,
        this.keys.running,
        this.keys.host(spec?.host ?? ""),
        this.keys.delayed,
        this.keys.prefix,
        id,
        this.workerId,
        outcome.status,
        JSON.stringify(outcome),
        new Date().toISOString(),
        retryAt ? String(retryAt.getTime()) : "",
        retryAt ? retryAt.toISOString() : "",
        String(JOB_TTL_SECONDS),
      );
      if (ours !== 1) this.log.warn("provision job was taken over; result dropped", { jobId: id });
    });
    this.metrics.finished.inc({ status: retry ? "retrying" : outcome.status });
    this.metrics.duration.observe(outcome.durationMs / 1_000);
    if (spec) this.notifier.notice(endNotice(id, spec, outcome, delay));
    this.log.info("provision finished", {
      jobId: id,
      status: outcome.status,
      message: outcome.message,
      retryInMs: delay,
    });
  }
}
