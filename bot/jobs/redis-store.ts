/**
 * Jobs kept in Redis for a configurable time, so `job <id>`, `jobs` and the HTTP job routes
 * work across a bot restart.
 *
 * Keys: `<prefix>job:{<id>}` (JSON, expires), `<prefix>job:{<id>}:events` (list, expires),
 * `<prefix>jobs` (sorted set of ids by creation time), `<prefix>jobs:summary` (hash: id → the
 * sealed {@link JobSummary} lists show, so a list never reads whole records) and
 * `<prefix>jobs:bytes` (hash: id → bytes the job's record and events take). The `{<id>}` hash
 * tag keeps one job's keys and channel in one Redis Cluster slot, so its MULTI blocks are
 * valid there; the index keys are written on their own.
 *
 * Bounds: a record is at most {@link MAX_JOB_RECORD_BYTES} (outputs cut with a visible
 * marker, `truncated: true`), an event at most {@link MAX_JOB_EVENT_BYTES}, a job at most
 * {@link MAX_JOB_EVENTS} events and {@link MAX_JOB_EVENTS_BYTES} of them (later ones reach live
 * viewers only, after one notice). Retention: jobs expire `ttlSeconds` after they were last
 * touched, and whenever more than `maxJobs` jobs or more than `maxBytes` bytes are kept, the
 * oldest jobs are deleted first until both hold.
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
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import type { ChainableCommander } from "ioredis";
import { isCluster, type RedisClient } from "../../lib/redis/client.ts";
import type { StateSealer } from "../../lib/seal.ts";
import type { BotEvent } from "../contract.ts";
import {
  capJobEvent,
  capJobRecord,
  DEFAULT_MAX_JOB_BYTES_KEPT,
  DEFAULT_MAX_JOBS_KEPT,
  MAX_JOB_EVENTS_BYTES,
  summarize,
} from "./limits.ts";
import type {
  JobEvent,
  JobLiveMessage,
  JobPage,
  JobRecord,
  JobStore,
  JobSummary,
} from "./types.ts";

export {
  MAX_JOB_EVENT_BYTES,
  MAX_JOB_EVENTS_BYTES,
  MAX_JOB_RECORD_BYTES,
  TRUNCATION_MARKER,
} from "./limits.ts";

/** Most progress events kept per job. */
export const MAX_JOB_EVENTS = 10_000;
/** Running jobs whose event bytes are counted at once (far more than ever run together). */
const MAX_TRACKED_JOBS = 10_000;
const MIB = 1024 * 1024;
export { DEFAULT_MAX_JOBS_KEPT, DEFAULT_MAX_JOB_BYTES_KEPT };
/** Jobs deleted per round when retention prunes. */
const PRUNE_BATCH = 100;
/** Most pruning rounds after one write (the next write continues). */
const MAX_PRUNE_ROUNDS = 10;
/** Record kind of a job's list summary in its seal. */
export const JOB_SUMMARY_KIND = "job-summary";
/** A page cursor: the creation time (ms) and id of the last job of the previous page. */
export const JOB_CURSOR_PATTERN = /^\d{1,15}-j[0-9a-f]{12}$/;
/** Index entries read per round while paging past jobs that share a creation time. */
const PAGE_SCAN_ROUNDS = 4;
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
  /** Most jobs kept (default {@link DEFAULT_MAX_JOBS_KEPT}); the oldest are deleted first. */
  readonly maxJobs?: number;
  /** Most bytes of records and events kept (default {@link DEFAULT_MAX_JOB_BYTES_KEPT}). */
  readonly maxBytes?: number;
}

/** {@link JobStore} on Redis. */
export class RedisJobStore implements JobStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly sealer: StateSealer;
  private readonly maxJobs: number;
  private readonly maxBytes: number;
  /** Bytes of events stored per running job of this process (∞ once over the budget). */
  private readonly eventBytes = new Map<string, number>();

  constructor(options: RedisJobStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.ttl = options.ttlSeconds;
    this.sealer = options.sealer;
    this.maxJobs = options.maxJobs ?? DEFAULT_MAX_JOBS_KEPT;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_JOB_BYTES_KEPT;
  }

  private get index(): string {
    return `${this.prefix}jobs`;
  }

  private get summaries(): string {
    return `${this.prefix}jobs:summary`;
  }

  private get sizes(): string {
    return `${this.prefix}jobs:bytes`;
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

  /** Stores the record (capped) and its summary; returns the sealed record's size. */
  private async write(job: JobRecord): Promise<{ tx: ChainableCommander; bytes: number }> {
    const key = this.key(job.id);
    const capped = capJobRecord(job);
    const raw = this.sealer.seal(JOB_KIND, key, capped);
    await this.redis.hset(
      this.summaries,
      job.id,
      // Counts from the whole result; the flag from what was kept.
      this.sealer.seal(JOB_SUMMARY_KIND, key, {
        ...summarize(job),
        ...(capped.truncated === true ? { truncated: true } : {}),
      }),
    );
    return { tx: this.redis.multi().set(key, raw, "EX", this.ttl), bytes: Buffer.byteLength(raw) };
  }

  async create(job: JobRecord): Promise<void> {
    const { tx, bytes } = await this.write(job);
    await tx.exec();
    await this.redis.zadd(this.index, Date.now(), job.id);
    await this.redis.hset(this.sizes, job.id, bytes);
    await this.prune();
  }

  async addEvent(id: string, event: BotEvent): Promise<void> {
    const key = this.eventsKey(id);
    const entry: JobEvent = { at: new Date().toISOString(), event: capJobEvent(event) };
    const live: JobLiveMessage = { type: "event", entry };
    const raw = this.sealer.seal(JOB_EVENT_KIND, key, entry);
    const bytes = Buffer.byteLength(raw);
    const kept = this.eventBytes.get(id) ?? 0;
    if (kept + bytes > MAX_JOB_EVENTS_BYTES) {
      // Over the job's budget: live viewers still see it, the store keeps one notice instead.
      if (kept !== Number.POSITIVE_INFINITY) await this.keepOverflowNotice(id, key);
      await this.live(this.redis.multi(), id, live).exec();
      return;
    }
    if (this.eventBytes.size >= MAX_TRACKED_JOBS) this.eventBytes.clear();
    this.eventBytes.set(id, kept + bytes);
    const tx = this.redis
      .multi()
      .rpush(key, raw)
      .ltrim(key, -MAX_JOB_EVENTS, -1)
      .expire(key, this.ttl);
    await this.live(tx, id, live).exec();
    await this.redis.hincrby(this.sizes, id, bytes);
  }

  /** Stores the one notice that a job's later progress events are not kept. */
  private async keepOverflowNotice(id: string, key: string): Promise<void> {
    this.eventBytes.set(id, Number.POSITIVE_INFINITY);
    const notice: JobEvent = {
      at: new Date().toISOString(),
      event: {
        type: "progress",
        jobId: id,
        line: `later progress not kept: this job's events reached ${MAX_JOB_EVENTS_BYTES / MIB} MiB (the result is)`,
      },
    };
    const raw = this.sealer.seal(JOB_EVENT_KIND, key, notice);
    await this.redis.multi().rpush(key, raw).expire(key, this.ttl).exec();
    await this.redis.hincrby(this.sizes, id, Buffer.byteLength(raw));
  }

  async finish(
    id: string,
    outcome: Pick<JobRecord, "state" | "result" | "error" | "cancelledBy"> & {
      readonly finishedAt: string;
    },
  ): Promise<void> {
    const job = await this.get(id);
    if (!job) return;
    const before = Buffer.byteLength((await this.redis.get(this.key(id))) ?? "");
    const done: JobRecord = { ...job, ...outcome };
    const live: JobLiveMessage = { type: "finished", state: outcome.state };
    const { tx, bytes } = await this.write(done);
    await this.live(tx, id, live).exec();
    await this.redis.hincrby(this.sizes, id, bytes - before);
    this.eventBytes.delete(id);
    await this.prune();
  }

  /** Deletes jobs `ids` (record, events, summary, size) and drops them from the index. */
  private async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    // Each job's keys live in its own slot: one DEL per job, in parallel.
    await Promise.all(ids.map((id) => this.redis.del(this.key(id), this.eventsKey(id))));
    await this.redis.zrem(this.index, ...ids);
    await this.redis.hdel(this.summaries, ...ids);
    await this.redis.hdel(this.sizes, ...ids);
  }

  /**
   * Retention, oldest first: drops expired jobs from the index, then deletes the oldest while
   * more than `maxJobs` jobs or `maxBytes` bytes are kept (at most a few rounds per write).
   */
  private async prune(): Promise<void> {
    const expired = await this.redis.zrangebyscore(
      this.index,
      "-inf",
      Date.now() - this.ttl * MS_PER_SECOND,
      "LIMIT",
      0,
      PRUNE_BATCH,
    );
    await this.remove(expired);
    for (let round = 0; round < MAX_PRUNE_ROUNDS; round++) {
      const count = await this.redis.zcard(this.index);
      const bytes = (await this.redis.hvals(this.sizes)).reduce((n, v) => n + Number(v), 0);
      if (count <= this.maxJobs && bytes <= this.maxBytes) return;
      const over = Math.max(1, Math.min(PRUNE_BATCH, count - this.maxJobs));
      const oldest = await this.redis.zrange(this.index, 0, over - 1);
      if (oldest.length === 0) return;
      await this.remove(oldest);
    }
  }

  async get(id: string): Promise<JobRecord | undefined> {
    if (!JOB_ID_PATTERN.test(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    if (raw === null) return undefined;
    const job = this.open(id, raw);
    // A record that fails verification is gone for every reader: lists leave it out too.
    if (job === undefined) await this.forget(id);
    return job;
  }

  /** Drops `id` from the index and its summary (its keys stay for whoever looks at them). */
  private async forget(id: string): Promise<void> {
    await this.redis.zrem(this.index, id);
    await this.redis.hdel(this.summaries, id);
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

  async list(limit: number): Promise<readonly JobSummary[]> {
    return (await this.page(limit)).jobs;
  }

  async page(limit: number, cursor?: string): Promise<JobPage> {
    let max = "+inf";
    let after: { score: number; id: string } | undefined;
    if (cursor !== undefined && JOB_CURSOR_PATTERN.test(cursor)) {
      const [score, id] = cursor.split("-");
      after = { score: Number(score), id: id ?? "" };
      max = String(after.score);
    }
    // Entries at the cursor's own time that sort at or before its id were on earlier pages.
    const picked: Array<[string, number]> = [];
    for (let round = 0, offset = 0; round < PAGE_SCAN_ROUNDS && picked.length <= limit; round++) {
      const flat = await this.redis.zrevrangebyscore(
        this.index,
        max,
        "-inf",
        "WITHSCORES",
        "LIMIT",
        offset,
        limit + 1,
      );
      if (flat.length === 0) break;
      offset += flat.length / 2;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const id = flat[i] ?? "";
        const score = Number(flat[i + 1]);
        if (after !== undefined && score === after.score && id >= after.id) continue;
        picked.push([id, score]);
      }
    }
    const page = picked.slice(0, limit);
    const ids = page.map(([id]) => id);
    const raws = ids.length === 0 ? [] : await this.redis.hmget(this.summaries, ...ids);
    const gone = ids.filter((_, i) => raws[i] === null || raws[i] === undefined);
    if (gone.length > 0) await this.redis.zrem(this.index, ...gone);
    const jobs = raws.flatMap((r, i) => {
      const id = ids[i] ?? "";
      if (r === null || r === undefined) return [];
      const opened = this.sealer.open<JobSummary>(JOB_SUMMARY_KIND, this.key(id), r);
      return opened.ok && opened.value.id === id ? [opened.value] : [];
    });
    const last = page.at(-1);
    return picked.length > limit && last !== undefined
      ? { jobs, nextCursor: `${last[1]}-${last[0]}` }
      : { jobs };
  }
}
