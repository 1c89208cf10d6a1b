/**
 * Jobs kept in Redis for a configurable time, so `job <id>`, `jobs` and the HTTP job routes
 * work across a bot restart.
 *
 * Keys: `<prefix>job:{<id>}` (JSON, expires), `<prefix>job:{<id>}:events` (list, expires) and
 * `<prefix>jobs` (sorted set of ids by creation time, pruned as jobs expire). The `{<id>}` hash
 * tag keeps one job's keys and channel in one Redis Cluster slot, so its MULTI blocks are
 * valid there; the index is written on its own.
 *
 * Live updates: each appended event and the final state are also published on the pub/sub
 * channel {@link jobEventsChannel} (same name as the list key; channels and keys do not
 * collide), so any bot replica can stream a job another one runs.
 *
 * The job record and every event entry are sealed (lib/seal.ts) and bound to their key: a
 * planted or edited record reads as absent, a planted or edited event is skipped, each
 * refusal counted and logged. Live messages are sealed too, bound to their channel
 * ({@link openLiveMessage}), so a Redis writer cannot show a viewer a progress line or an end
 * that the bot never published.
 */
import { randomBytes } from "node:crypto";
import type { ChainableCommander } from "ioredis";
import { isCluster, type RedisClient } from "../../lib/redis/client.ts";
import type { StateSealer } from "../../lib/seal.ts";
import type { BotEvent } from "../contract.ts";
import type { JobEvent, JobLiveMessage, JobRecord, JobStore } from "./types.ts";

/** Most progress events kept per job. */
export const MAX_JOB_EVENTS = 10_000;
const MS_PER_SECOND = 1_000;
const JOB_ID_BYTES = 6;
/** Record kind of a job in its seal. */
export const JOB_KIND = "job";
/** Record kind of one entry of a job's events list in its seal. */
export const JOB_EVENT_KIND = "job-event";
/** Record kind of a live message on a job's channel in its seal. */
export const JOB_LIVE_KIND = "job-live";

/**
 * The live message sealed in `raw` on `channel`, or undefined when it does not verify (counted
 * and logged by the sealer) or is not a live message.
 */
export function openLiveMessage(
  sealer: StateSealer,
  channel: string,
  raw: string,
): JobLiveMessage | undefined {
  const opened = sealer.open<Partial<JobLiveMessage> | null>(JOB_LIVE_KIND, channel, raw);
  if (!opened.ok) return undefined;
  const m = opened.value;
  if (m?.type === "event" && typeof m.entry === "object" && m.entry !== null)
    return m as JobLiveMessage;
  if (m?.type === "finished" && typeof m.state === "string") return m as JobLiveMessage;
  return undefined;
}

/** A fresh job id such as `j3fa9c01b7e42`. */
export function newJobId(): string {
  return `j${randomBytes(JOB_ID_BYTES).toString("hex")}`;
}

/** Job ids as {@link newJobId} makes them. */
export const JOB_ID_PATTERN = /^j[0-9a-f]{12}$/;

/** The pub/sub channel carrying a job's live {@link JobLiveMessage}s. */
export function jobEventsChannel(prefix: string, id: string): string {
  return `${prefix}job:{${id}}:events`;
}

/** Options for {@link RedisJobStore}. */
export interface RedisJobStoreOptions {
  readonly redis: RedisClient;
  /** Key prefix, e.g. `commodore:`. */
  readonly prefix: string;
  /** How long a job is kept after it was last touched. */
  readonly ttlSeconds: number;
  /** Seals records on write and verifies them on read. */
  readonly sealer: StateSealer;
}

/** {@link JobStore} on Redis. */
export class RedisJobStore implements JobStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly sealer: StateSealer;

  constructor(options: RedisJobStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.ttl = options.ttlSeconds;
    this.sealer = options.sealer;
  }

  private key(id: string): string {
    return `${this.prefix}job:{${id}}`;
  }

  private eventsKey(id: string): string {
    return `${this.key(id)}:events`;
  }

  /** The job sealed in `raw`, or undefined (counted and logged) when it does not verify. */
  private open(id: string, raw: string): JobRecord | undefined {
    const opened = this.sealer.open<JobRecord>(JOB_KIND, this.key(id), raw);
    return opened.ok ? opened.value : undefined;
  }

  /** Queues a publish of `message` on the job's channel: sharded in a cluster, so it stays in the job's slot. */
  private live(tx: ChainableCommander, id: string, message: JobLiveMessage): ChainableCommander {
    const channel = jobEventsChannel(this.prefix, id);
    const raw = this.sealer.seal(JOB_LIVE_KIND, channel, message);
    return isCluster(this.redis) ? tx.spublish(channel, raw) : tx.publish(channel, raw);
  }

  async create(job: JobRecord): Promise<void> {
    const index = `${this.prefix}jobs`;
    const now = Date.now();
    const key = this.key(job.id);
    await this.redis.set(key, this.sealer.seal(JOB_KIND, key, job), "EX", this.ttl);
    await this.redis
      .multi()
      .zadd(index, now, job.id)
      .zremrangebyscore(index, "-inf", now - this.ttl * MS_PER_SECOND)
      .exec();
  }

  async addEvent(id: string, event: BotEvent): Promise<void> {
    const key = this.eventsKey(id);
    const entry: JobEvent = { at: new Date().toISOString(), event };
    const live: JobLiveMessage = { type: "event", entry };
    const tx = this.redis
      .multi()
      .rpush(key, this.sealer.seal(JOB_EVENT_KIND, key, entry))
      .ltrim(key, -MAX_JOB_EVENTS, -1)
      .expire(key, this.ttl);
    await this.live(tx, id, live).exec();
  }

  async finish(
    id: string,
    outcome: Pick<JobRecord, "state" | "result" | "error" | "cancelledBy"> & {
      readonly finishedAt: string;
    },
  ): Promise<void> {
    const job = await this.get(id);
    if (!job) return;
    const done: JobRecord = { ...job, ...outcome };
    const live: JobLiveMessage = { type: "finished", state: outcome.state };
    const key = this.key(id);
    const tx = this.redis.multi().set(key, this.sealer.seal(JOB_KIND, key, done), "EX", this.ttl);
    await this.live(tx, id, live).exec();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    if (!JOB_ID_PATTERN.test(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    return raw === null ? undefined : this.open(id, raw);
  }

  async events(id: string): Promise<readonly JobEvent[]> {
    if (!JOB_ID_PATTERN.test(id)) return [];
    const key = this.eventsKey(id);
    const raw = await this.redis.lrange(key, 0, -1);
    return raw.flatMap((r) => {
      const opened = this.sealer.open<JobEvent>(JOB_EVENT_KIND, key, r);
      return opened.ok ? [opened.value] : [];
    });
  }

  async list(limit: number): Promise<readonly JobRecord[]> {
    const index = `${this.prefix}jobs`;
    const ids = await this.redis.zrevrange(index, 0, limit - 1);
    if (ids.length === 0) return [];
    // One GET per job: each job's key lives in its own slot, so MGET would be cross-slot.
    const raws = await Promise.all(ids.map((id) => this.redis.get(this.key(id))));
    const gone = ids.filter((_, i) => raws[i] === null);
    if (gone.length > 0) await this.redis.zrem(index, ...gone);
    return raws.flatMap((r, i) => {
      const job = r === null ? undefined : this.open(ids[i] ?? "", r);
      return job === undefined ? [] : [job];
    });
  }
}
