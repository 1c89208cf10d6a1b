/**
 * Runs a transport only on the bot replica that holds a Redis lease: with several replicas
 * against one Redis, exactly one holds the IRC connection. When the holder dies, its lease
 * expires and another replica takes over within `ttlMs + renewMs` (13 s by default) plus the
 * time to connect.
 *
 * Each leadership term gets a fresh transport from `create`, so nothing queued in an earlier
 * term is ever sent later. The moment the lease is lost (taken over, not renewed in time,
 * released) the transport is stopped, which pauses its send queue at once.
 */
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { MetricsRegistry } from "../lib/metrics.ts";
import type { RedisClient } from "../lib/redis/client.ts";
import { RedisLease, leaseKeys } from "../lib/redis/lease.ts";
import type { LeaseSettings } from "../lib/redis/options.ts";
import type { Transport } from "../bot/transport.ts";

/** One leadership term. */
export interface LeaderTerm {
  /** Fencing token: strictly larger for every new holder. */
  readonly fence: number;
  /** True while this term still holds the lease. */
  current(): boolean;
}

/** Inputs of {@link leaderTransport}. */
export interface LeaderTransportOptions<T extends Transport> {
  readonly redis: RedisClient;
  /** Key prefix without colon, e.g. `commodore`. */
  readonly prefix: string;
  /** Lease name; one lease per singleton transport (e.g. `irc`). */
  readonly name: string;
  readonly lease: LeaseSettings;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  /** Builds the transport for a new term. */
  readonly create: (term: LeaderTerm) => T;
}

/**
 * A transport that runs only while this replica leads. It is a {@link Transport} itself (named
 * after its lease), so the runtime starts and stops it like any other.
 */
export interface LeaderTransport<T extends Transport = Transport> extends Transport {
  /** True while this replica holds the lease. */
  readonly leader: boolean;
  /** The running transport, while leader. */
  readonly transport: T | undefined;
  /**
   * Starts contending for the lease; resolves once the first attempt is answered and, when it
   * was won, the transport's own `start` has finished (or failed, which is logged).
   */
  start(): Promise<void>;
  /** Stops the transport and releases the lease. */
  stop(): Promise<void>;
}

/** Wraps a singleton transport in a lease. */
export function leaderTransport<T extends Transport>(
  o: LeaderTransportOptions<T>,
): LeaderTransport<T> {
  const log = o.logger.child({ lease: o.name });
  let current: T | undefined;
  let steps: Promise<void> = Promise.resolve();
  const enqueue = (what: string, step: () => Promise<void>) => {
    steps = steps.then(step).catch((err: unknown) => {
      log.error(`leader transport ${what} failed`, { error: errorMessage(err) });
    });
  };
  const halt = () => {
    const t = current;
    current = undefined;
    // stop() pauses the send queue synchronously, before its first await.
    if (t) enqueue("stop", () => t.stop());
  };
  const lease: RedisLease = new RedisLease({
    redis: o.redis,
    keys: leaseKeys(o.prefix, o.name),
    ttlMs: o.lease.ttlMs,
    renewMs: o.lease.renewMs,
    logger: log,
    onAcquired: (fence) => {
      halt();
      const term: LeaderTerm = { fence, current: () => lease.fence === fence };
      const t = o.create(term);
      current = t;
      enqueue("start", async () => {
        if (current === t) await t.start();
      });
    },
    onLost: halt,
  });
  o.metrics?.gauge(
    `commodore_leader_${o.name}`,
    `1 while this replica holds the ${o.name} lease`,
    () => (lease.held ? 1 : 0),
  );
  return {
    name: o.name,
    get leader() {
      return lease.held;
    },
    get transport() {
      return current;
    },
    async start() {
      await lease.start();
      await steps;
    },
    async stop() {
      await lease.stop();
      halt();
      await steps;
    },
  };
}
