/**
 * Redis operations of the provisioning queue, one method per atomic step. Workers, timers and
 * notices live in queue.ts; this file only talks to Redis. Specs and outcomes are sealed for
 * their job's hash key (see codec.ts); a spec that fails verification is never run.
 */
import { CommodoreError } from "../../../lib/errors.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { SealVerifyReason, StateSealer } from "../../../lib/seal.ts";
import type { ProvisionJob, ProvisionJobSpec, RunOutcome } from "../types.ts";
import { decodeJob, openSpec, sealOutcome, sealSpec } from "./codec.ts";
import { JOB_ID, queueKeys, type QueueKeys } from "./keys.ts";
import { CLAIM, ENQUEUE, FINISH, RECOVER } from "./scripts.ts";

/** How long finished job records are kept. */
export const JOB_TTL_SECONDS = 7 * 24 * 3600;
/** ENQUEUE answers: queued, host busy, or "the next id is another one" (seal again). */
const ENQUEUED = 1;
const NEXT_ID_CHANGED = 2;
/**
 * Most ENQUEUE calls for one spec. Each retry means another enqueue won the id in between,
 * so only a flood of concurrent enqueues exhausts this.
 */
const MAX_ENQUEUE_CALLS = 100;

/**
 * A job a worker has just claimed: its spec, or why the stored spec was refused (missing,
 * corrupt or failing verification; such a job is never run).
 */
export type Claimed = { readonly id: string; readonly attempt: number } & (
  { readonly spec: ProvisionJobSpec } | { readonly refused: SealVerifyReason }
);

/** Concurrent enqueues kept taking the next job id. */
export class QueueContendedError extends CommodoreError {
  constructor(host: string) {
    super("E_PROVISION_QUEUE_BUSY", `could not queue a run for ${host}: the queue is too busy`, {
      hint: "try again in a moment",
    });
  }
}

/** The queue's state in Redis. */
export class JobStore {
  private readonly keys: QueueKeys;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly sealer: StateSealer,
  ) {
    this.keys = queueKeys(prefix);
  }

  /** Adds a pending job unless the host has one: `{ created, id }` (id of the existing one). */
  async add(spec: ProvisionJobSpec): Promise<{ created: boolean; id: string }> {
    // The first call only learns the next id; each later one carries the spec sealed for it.
    let expectedId = "";
    let sealed = "";
    for (let call = 0; call < MAX_ENQUEUE_CALLS; call++) {
      const [status, id] = (await this.redis.eval(
        ENQUEUE,
        3,
        this.keys.host(spec.host),
        this.keys.seq,
        this.keys.pending,
        this.keys.prefix,
        sealed,
        new Date().toISOString(),
        expectedId,
      )) as [number, string];
      if (status !== NEXT_ID_CHANGED) return { created: status === ENQUEUED, id };
      expectedId = id;
      sealed = sealSpec(this.sealer, this.keys.job(id), spec);
    }
    throw new QueueContendedError(spec.host);
  }

  /**
   * The job with this id, or undefined: also for ids of the wrong shape and for records that
   * fail verification (counted and logged).
   */
  async get(jobId: string): Promise<ProvisionJob | undefined> {
    if (!JOB_ID.test(jobId)) return undefined;
    const key = this.keys.job(jobId);
    const job = decodeJob(this.sealer, key, await this.redis.hgetall(key));
    return job?.id === jobId ? job : undefined;
  }

  /** The id of the host's pending or running job, if any. */
  async activeJobFor(host: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.host(host))) ?? undefined;
  }

  /** Claims the oldest runnable job if fewer than `cap` run anywhere. */
  async claim(cap: number, workerId: string): Promise<Claimed | undefined> {
    const now = new Date();
    const claimed = (await this.redis.eval(
      CLAIM,
      3,
      this.keys.pending,
      this.keys.delayed,
      this.keys.running,
      this.keys.prefix,
      String(cap),
      String(now.getTime()),
      workerId,
      now.toISOString(),
    )) as [string, string | null, number] | null;
    if (!claimed) return undefined;
    const [id, raw, attempt] = claimed;
    const opened = openSpec(this.sealer, this.keys.job(id), raw);
    return { id, attempt, ...opened };
  }

  /**
   * Records an attempt's outcome: final (host freed, record expires later) or, with
   * `retryAt`, back to the delayed set. False when the job is no longer owned by `workerId`.
   */
  async finish(
    id: string,
    host: string,
    workerId: string,
    outcome: RunOutcome,
    retryAt: Date | undefined,
  ): Promise<boolean> {
    const done = await this.redis.eval(
      FINISH,
      3,
      this.keys.running,
      this.keys.host(host),
      this.keys.delayed,
      this.keys.prefix,
      id,
      workerId,
      outcome.status,
      sealOutcome(this.sealer, this.keys.job(id), outcome),
      new Date().toISOString(),
      retryAt ? String(retryAt.getTime()) : "",
      retryAt ? retryAt.toISOString() : "",
      String(JOB_TTL_SECONDS),
    );
    return done === 1;
  }

  /** Puts back running jobs of dead workers (or, with `onlyId`, one of our own). */
  async recover(selfWorkerId: string, onlyId = ""): Promise<string[]> {
    return (await this.redis.eval(
      RECOVER,
      2,
      this.keys.running,
      this.keys.pending,
      this.keys.prefix,
      selfWorkerId,
      onlyId,
    )) as string[];
  }

  /** Marks `workerId` alive for `leaseMs`. */
  async heartbeat(workerId: string, leaseMs: number): Promise<void> {
    await this.redis.set(this.keys.worker(workerId), "1", "PX", leaseMs);
  }

  /** Marks `workerId` gone. */
  async release(workerId: string): Promise<void> {
    await this.redis.del(this.keys.worker(workerId));
  }
}
