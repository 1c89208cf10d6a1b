/**
 * Provisioning notices for IRC when several bot replicas share one Redis. Every replica works
 * the provisioning queue, but only the replica holding the IRC lease has a transport (see
 * leader-transport.ts). So each replica publishes its notices on one pub/sub channel, and every
 * replica listens: the one whose transport holds the lease when a notice arrives sends it, the
 * others ignore it. A notice is therefore sent once, whichever replica ran the job; while no
 * replica holds the lease (a takeover in progress) notices are lost, not queued.
 */
import type { Notifier } from "../executors/provision/index.ts";
import type { Logger } from "../lib/log.ts";
import type { MetricsRegistry } from "../lib/metrics.ts";
import type { PubSubBus } from "../lib/redis/bus.ts";

/** Longest notice line accepted from the channel; longer messages are dropped as malformed. */
export const MAX_NOTICE_CHARS = 2_000;

/** The one thing a notice needs from an IRC transport. */
export interface NoticeSink {
  notice(channel: string, line: string): void;
}

/** Inputs of {@link noticeRelay}. */
export interface NoticeRelayOptions {
  /** Pub/sub shared by the replicas. */
  readonly bus: PubSubBus;
  /** The pub/sub channel notices travel on, e.g. `commodore:irc:notices`. */
  readonly topic: string;
  /** IRC channels every notice goes to (none: notices are off). */
  readonly channels: readonly string[];
  /** The IRC transport of this replica's current lease term, if any; asked on arrival. */
  readonly current: () => NoticeSink | undefined;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

/** The relay: a notifier for the provisioning executor, and its subscription's life cycle. */
export interface NoticeRelay {
  readonly notifier: Notifier;
  /** Subscribes; resolves once Redis confirmed the subscription. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function parseNotice(message: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const line = (parsed as { line?: unknown }).line;
    return typeof line === "string" && line.length <= MAX_NOTICE_CHARS ? line : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the relay for one replica. */
export function noticeRelay(o: NoticeRelayOptions): NoticeRelay {
  const dropped = o.metrics.counter(
    "commodore_provision_notices_dropped_total",
    "Provisioning notices not relayed, by reason (publish_failed, malformed)",
  );
  const onMessage = (message: string) => {
    const line = parseNotice(message);
    if (line === undefined) {
      dropped.inc({ reason: "malformed" });
      o.logger.warn("malformed provisioning notice dropped", { topic: o.topic });
      return;
    }
    const transport = o.current();
    if (transport === undefined) return; // another replica holds the IRC lease
    for (const channel of o.channels) transport.notice(channel, line);
  };
  return {
    notifier: {
      notice(line) {
        if (o.channels.length === 0) return;
        o.bus.publish(o.topic, JSON.stringify({ line })).catch((err: unknown) => {
          dropped.inc({ reason: "publish_failed" });
          o.logger.warn("provisioning notice not published", {
            error: err instanceof Error ? err.message : String(err),
          });
        });
      },
    },
    start: () =>
      o.channels.length === 0 ? Promise.resolve() : o.bus.subscribe(o.topic, onMessage),
    stop: () => o.bus.unsubscribe(o.topic, onMessage),
  };
}
