/**
 * Pub/sub that works the same in every topology. On a single server or behind Sentinel it is
 * plain PUBLISH/SUBSCRIBE; on a Redis Cluster it is sharded pub/sub (SPUBLISH/SSUBSCRIBE,
 * Redis 7), so each channel lives on the shard owning its hash slot instead of being
 * broadcast over the whole cluster bus.
 *
 * Subscriptions use their own connection (a duplicate of the command client), which ioredis
 * resubscribes after every reconnect. When that connection drops, `onInterrupted` listeners
 * run: messages published meanwhile are lost, so callers waiting for replies must give up.
 *
 * A first subscription waits for the connection to be ready: a SUBSCRIBE written during the
 * handshake can put the connection into subscriber mode before ioredis's INFO ready check,
 * which then fails and drops the connection.
 */
import type { Cluster, Redis } from "ioredis";
import { closeRedis, waitReady } from "../redis.ts";
import { isCluster, type RedisClient } from "./client.ts";

/** How long after the subscription connection is ready again its restore listeners run. */
export const RESTORE_SETTLE_MS = 250;

/** Receives one message of a subscribed channel. */
export type BusHandler = (message: string, channel: string) => void;

/** Topology-neutral pub/sub. */
export interface PubSubBus {
  /** True when using sharded pub/sub (Redis Cluster). */
  readonly sharded: boolean;
  /** Publishes; resolves to the number of receivers Redis reports (per shard in a cluster). */
  publish(channel: string, message: string): Promise<number>;
  /** Adds `handler` to `channel`; resolves once Redis confirmed the subscription. */
  subscribe(channel: string, handler: BusHandler): Promise<void>;
  /** Removes `handler` (or every handler) from `channel`; unsubscribes when none is left. */
  unsubscribe(channel: string, handler?: BusHandler): Promise<void>;
  /** Runs `fn` whenever the subscription connection is lost; returns the remover. */
  onInterrupted(fn: () => void): () => void;
  /**
   * Runs `fn` whenever the subscription connection is back after a loss, once its channels are
   * subscribed again (messages published while it was down were lost); returns the remover.
   */
  onRestored(fn: () => void): () => void;
  /** Closes the subscription connection (never the command client). */
  close(): Promise<void>;
}

function subscriberFor(client: RedisClient): RedisClient {
  return isCluster(client)
    ? client.duplicate([], { shardedSubscribers: true })
    : (client as Redis).duplicate();
}

/**
 * Creates a bus publishing through `client` and subscribing on a duplicate of it; `where`
 * names the server in errors (never with credentials).
 */
export function createBus(client: RedisClient, where = "the configured server"): PubSubBus {
  const sharded = isCluster(client);
  const sub = subscriberFor(client);
  const handlers = new Map<string, Set<BusHandler>>();
  const interrupted = new Set<() => void>();
  const restored = new Set<() => void>();
  let wasReady = false;
  let wasLost = false;
  let closing = false;

  sub.on("error", () => undefined);
  sub.on(sharded ? "smessage" : "message", (channel: string, message: string) => {
    for (const fn of handlers.get(channel) ?? []) fn(message, channel);
  });
  sub.on("ready", () => {
    wasReady = true;
    if (!wasLost) return;
    wasLost = false;
    // ioredis subscribes again as this connection becomes ready; listeners run a moment later,
    // once those subscriptions are in place (no command of ours: an agent's login may send
    // nothing but SUBSCRIBE here).
    setTimeout(() => {
      if (closing || !wasReady) return;
      for (const fn of [...restored]) fn();
    }, RESTORE_SETTLE_MS).unref();
  });
  const lost = () => {
    if (!wasReady || closing) return;
    wasReady = false;
    wasLost = true;
    for (const fn of [...interrupted]) fn();
  };
  sub.on(sharded ? "-node" : "close", lost);

  return {
    sharded,
    async publish(channel, message) {
      const n = sharded
        ? await (client as Cluster).spublish(channel, message)
        : await client.publish(channel, message);
      return Number(n);
    },
    async subscribe(channel, handler) {
      let set = handlers.get(channel);
      const first = set === undefined;
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
      }
      set.add(handler);
      if (!first) return;
      if (sub.status !== "ready") await waitReady(sub, where);
      await (sharded ? sub.ssubscribe(channel) : sub.subscribe(channel));
    },
    async unsubscribe(channel, handler) {
      const set = handlers.get(channel);
      if (!set) return;
      if (handler) set.delete(handler);
      else set.clear();
      if (set.size > 0) return;
      handlers.delete(channel);
      const done = sharded ? sub.sunsubscribe(channel) : sub.unsubscribe(channel);
      // While reconnecting the command waits in the offline queue and runs after the
      // reconnect; callers need not wait for that.
      if (sub.status === "ready") await done;
      else done.catch(() => undefined);
    },
    onInterrupted(fn) {
      interrupted.add(fn);
      return () => interrupted.delete(fn);
    },
    onRestored(fn) {
      restored.add(fn);
      return () => restored.delete(fn);
    },
    async close() {
      if (closing) return;
      closing = true;
      handlers.clear();
      interrupted.clear();
      restored.clear();
      await closeRedis(sub);
    },
  };
}
