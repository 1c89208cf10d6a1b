/**
 * One Redis subscriber connection shared by every open job stream: subscribes to a job's
 * events channel while at least one browser watches it, and hands each message to them.
 * Messages that are not sealed live messages of that job's channel are counted and dropped.
 */
import { jobEventsChannel, openLiveMessage } from "../../../bot/jobs/redis-store.ts";
import type { JobLiveMessage } from "../../../bot/jobs/types.ts";
import type { Logger } from "../../../lib/log.ts";
import type { Counter } from "../../../lib/metrics.ts";
import { createBus, type PubSubBus } from "../../../lib/redis/bus.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { StateSealer } from "../../../lib/seal.ts";

/** Receives one job's live messages. */
export type LiveListener = (message: JobLiveMessage) => void;

/** Fans job channels out to listeners. */
export class JobLiveHub {
  private sub: PubSubBus | undefined;
  private readonly listeners = new Map<string, Set<LiveListener>>();

  constructor(
    private readonly redis: RedisClient,
    /** Key prefix with its trailing colon, as the job store uses it. */
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly dropped: Counter,
    /** Opens the sealed live messages the job store publishes. */
    private readonly sealer: StateSealer,
  ) {}

  private connection(): PubSubBus {
    if (this.sub) return this.sub;
    const sub = createBus(this.redis);
    sub.onInterrupted(() => this.logger.warn("status subscriber lost its connection"));
    this.sub = sub;
    return sub;
  }

  private readonly deliver = (raw: string, channel: string): void => {
    const set = this.listeners.get(channel);
    if (!set) return;
    const msg = openLiveMessage(this.sealer, channel, raw);
    if (!msg) {
      this.dropped.inc({ reason: "malformed_live_message" });
      return;
    }
    for (const fn of set) fn(msg);
  };

  /** Subscribes `fn` to job `id`; resolves once Redis confirmed, to the unsubscribe function. */
  async subscribe(id: string, fn: LiveListener): Promise<() => Promise<void>> {
    const channel = jobEventsChannel(this.prefix, id);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(fn);
    await this.connection().subscribe(channel, this.deliver);
    return async () => {
      const current = this.listeners.get(channel);
      current?.delete(fn);
      if (current?.size === 0) {
        this.listeners.delete(channel);
        await this.sub?.unsubscribe(channel, this.deliver).catch(() => undefined);
      }
    };
  }

  /** Channels with at least one listener. */
  get watched(): number {
    return this.listeners.size;
  }

  /** Closes the subscriber connection. */
  async close(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    this.listeners.clear();
    if (sub) await sub.close();
  }
}
