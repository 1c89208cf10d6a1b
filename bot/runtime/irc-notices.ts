/**
 * Provisioning notices for IRC when several bot replicas share one Redis: only the replica
 * holding the IRC lease has a transport (see leader-transport.ts). Each notice goes to the
 * transport that holds the lease at send time; a replica without one drops its notice and
 * counts it, so no notice is ever sent twice.
 */
import type { Notifier } from "../../executors/provision/notifier.ts";
import type { Logger } from "../../lib/log.ts";
import type { MetricsRegistry } from "../../lib/metrics.ts";

/** The one thing a notice needs from an IRC transport. */
export interface NoticeSink {
  notice(channel: string, line: string): void;
}

/** Inputs of {@link leaseNotifier}. */
export interface LeaseNotifierOptions {
  /** Channels every notice goes to (none: notices are off and nothing is counted). */
  readonly channels: readonly string[];
  /** The IRC transport of this replica's current lease term, if any; asked at send time. */
  readonly current: () => NoticeSink | undefined;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

/** A notifier sending through whichever transport currently holds the IRC lease. */
export function leaseNotifier(o: LeaseNotifierOptions): Notifier {
  const dropped = o.metrics.counter(
    "commodore_provision_notices_dropped_total",
    "Provisioning notices not sent because this replica holds no IRC transport (not the lease holder)",
  );
  return {
    notice(line) {
      if (o.channels.length === 0) return;
      const transport = o.current();
      if (transport === undefined) {
        dropped.inc();
        o.logger.info("provisioning notice not sent: this replica holds no IRC transport", {
          channels: o.channels,
        });
        return;
      }
      for (const channel of o.channels) transport.notice(channel, line);
    },
  };
}
