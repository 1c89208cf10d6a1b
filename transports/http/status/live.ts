/**
 * Fans the job events channels of open job streams out to their listeners, over the bot's
 * shared pub/sub bus: subscribes to a job's channel while at least one browser watches it.
 * Messages that are not sealed live messages of that job's channel are counted and dropped.
 */
import { jobEventsChannel, openLiveMessage } from "../../../bot/jobs/redis-store.ts";
import type { JobLiveMessage } from "../../../bot/jobs/types.ts";
import type { Logger } from "../../../lib/log.ts";
import type { Counter } from "../../../lib/metrics.ts";
import type { PubSubBus } from "../../../lib/redis/bus.ts";
import type { StateSealer } from "../../../lib/seal.ts";

/** Receives one job's live messages. */
export type LiveListener = (message: JobLiveMessage) => void;

/** Fans job channels out to listeners. */
export class JobLiveHub {
  private readonly listeners = new Map<string, Set<LiveListener>>();
  private readonly offInterrupted: () => void;

  constructor(
    /** The bot's bus; the hub subscribes and unsubscribes on it, and never closes it. */
    private readonly bus: PubSubBus,
    /** Key prefix with its trailing colon, as the job store uses it. */
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly dropped: Counter,
    /** Opens the sealed live messages the job store publishes. */
    private readonly sealer: StateSealer,
  ) {
    this.offInterrupted = bus.onInterrupted(() => {
      if (this.listeners.size > 0) this.logger.warn("status subscriber lost its connection");
    });
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
    await this.bus.subscribe(channel, this.deliver);
    return async () => {
      const current = this.listeners.get(channel);
      current?.delete(fn);
      if (current?.size === 0) {
        this.listeners.delete(channel);
        await this.bus.unsubscribe(channel, this.deliver).catch(() => undefined);
      }
    };
  }

  /** Channels with at least one listener. */
  get watched(): number {
    return this.listeners.size;
  }

  /** Ends every subscription of the hub (the bus stays open for its other users). */
  async close(): Promise<void> {
    this.offInterrupted();
    const channels = [...this.listeners.keys()];
    this.listeners.clear();
    await Promise.all(
      channels.map((ch) => this.bus.unsubscribe(ch, this.deliver).catch(() => undefined)),
    );
  }
}
