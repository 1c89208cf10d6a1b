/**
 * The one type every Redis user in Commodore accepts: a single-server or Sentinel-managed
 * connection (`Redis`) or a Redis Cluster client (`Cluster`). Both speak the same commands;
 * only pub/sub differs, which {@link ../redis/bus.ts} hides.
 */
import type { Cluster, Redis } from "ioredis";

/** A command connection in any topology. */
export type RedisClient = Redis | Cluster;

/** True for a Redis Cluster client (sharded pub/sub, slot-bound transactions). */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}
