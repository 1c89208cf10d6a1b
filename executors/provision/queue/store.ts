/**
 * Redis operations of the provisioning queue, one method per atomic step. Workers, timers and
 * notices live in queue.ts; this file only talks to Redis.
 */
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { ProvisionJob, ProvisionJobSpec, RunOutcome } from "../types.ts";
import { decodeJob, decodeSpec, encodeSpec } from "./codec.ts";
import { JOB_ID, queueKeys, type QueueKeys } from "./keys.ts";
import { CLAIM, ENQUEUE, FINISH, RECOVER } from "./scripts.ts";

/** How long finished job records are kept. */
export const JOB_TTL_SECONDS = 7 * 24 * 3600;

/** A job a worker has just claimed. */
export interface Claimed {
  readonly id: string;
  /** Undefined when the stored spec is corrupt. */
  readonly spec: ProvisionJobSpec | undefined;
  readonly attempt: number;
}

/** The queue's state in Redis. */
export class JobStore {
  private readonly keys: QueueKeys;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.keys = queueKeys(prefix);
  }

  /** Adds a pending job unless the host has one: `{ created, id }` (id of the existing one). */
  async add(spec: ProvisionJobSpec): Promise<{ created: boolean; id: string }> {
    const [created, id] = (await this.redis.eval(
      ENQUEUE,
      3,
      this.keys.host(spec.host),
      this.keys.seq,
      this.keys.pending,
      this.keys.prefix,
      encodeSpec(spec),
      new Date().toISOString(),
    )) as [number, string];
    return { created: created === 1, id };
  }

  /** The job with this id, or undefined (also for ids of the wrong shape). */
  async get(jobId: string): Promise<ProvisionJob | undefined> {
    if (!JOB_ID.test(jobId)) return undefined;
    return decodeJob(await this.redis.hgetall(this.keys.job(jobId)));
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
    )) as [string, string, number] | null;
    if (!claimed) return undefined;
    const [id, spec, attempt] = claimed;
    return { id, spec: decodeSpec(spec), attempt };
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
      JSON.stringify(outcome),
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
