/**
 * Connects to Redis in the configured topology and hands back the command client and a
 * pub/sub bus for it:
 *
 * - `single`: one server from `redis.url` (see {@link connectRedis}).
 * - `sentinel`: ioredis asks the Sentinels for the current primary on every (re)connect. A
 *   failover drops the connections (the old primary dies or is demoted, which closes its
 *   clients), so the next connect reaches the promoted replica. ioredis's `failoverDetector`
 *   is left off: its disconnect on `+switch-master` can race a connect in progress and leave
 *   the client closed for good (seen in this repository's Sentinel tests).
 * - `cluster`: an ioredis Cluster client with sharded subscribers (SSUBSCRIBE per shard).
 *
 * Every mode reconnects with the same capped, jittered backoff and never logs passwords.
 */
import type { ConnectionOptions } from "node:tls";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { backoffDelay } from "../backoff.ts";
import { OptionsError } from "../errors.ts";
import { redactUrlCredentials, type Logger } from "../log.ts";
import {
  COMMAND_TIMEOUT_MS,
  closeRedis,
  connectRedis,
  logConnectionStates,
  REDIS_RECONNECT,
  waitReady,
} from "../redis.ts";
import { createBus, type PubSubBus } from "./bus.ts";
import type { RedisClient } from "./client.ts";
import type { HostPort, RedisTopologyConfig } from "./options.ts";

/** Inputs of {@link connectClient} and {@link connectTopology}. */
export interface TopologyOptions {
  readonly topology: RedisTopologyConfig;
  /** The server URL in single mode. */
  readonly url?: string | undefined;
  /** Connection name shown by `CLIENT LIST`. */
  readonly name: string;
  readonly logger: Logger;
  /** TLS settings; in sentinel and cluster modes their presence turns TLS on. */
  readonly tls?: ConnectionOptions | undefined;
  /** Where `passwordEnv` variables are read. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A connected topology. */
export interface RedisTopology {
  readonly mode: RedisTopologyConfig["mode"];
  readonly command: RedisClient;
  readonly bus: PubSubBus;
  /** Where it points, without credentials (for logs and errors). */
  readonly describe: string;
  /** Resolves once the command client is ready. */
  ready(timeoutMs?: number): Promise<void>;
  /** Closes the bus and the command client. */
  close(): Promise<void>;
}

const list = (nodes: readonly HostPort[]) => nodes.map((n) => `${n.host}:${n.port}`).join(",");

/** Where the topology points, as a credential-free URL that {@link ../redis/url.ts} parses. */
export function describeTopology(o: Pick<TopologyOptions, "topology" | "url">): string {
  const t = o.topology;
  if (t.mode === "sentinel" && t.sentinel)
    return `sentinel://${list(t.sentinel.nodes)}/${t.sentinel.name}`;
  if (t.mode === "cluster" && t.cluster) return `cluster://${list(t.cluster.nodes)}`;
  return redactUrlCredentials(o.url ?? "");
}

function secret(
  env: NodeJS.ProcessEnv,
  name: string | undefined,
  path: string,
): string | undefined {
  if (name === undefined) return undefined;
  const value = env[name];
  if (value === undefined || value === "")
    throw new OptionsError(
      `${path} names ${name}, which is not set`,
      `export ${name} with the password, or remove ${path}`,
    );
  return value;
}

/** Opens the command client for the configured topology (connecting in the background). */
export function connectClient(o: TopologyOptions): RedisClient {
  const t = o.topology;
  const where = describeTopology(o);
  if (t.mode === "single") {
    if (o.url === undefined)
      throw new OptionsError("redis.url is required in single mode", "set redis.url or REDIS_URL");
    return connectRedis({
      url: o.url,
      name: o.name,
      logger: o.logger,
      ...(o.tls ? { tls: o.tls } : {}),
    });
  }
  const env = o.env ?? process.env;
  const password = secret(env, t.passwordEnv, "redis.passwordEnv");
  const auth = {
    ...(t.username === undefined ? {} : { username: t.username }),
    ...(password === undefined ? {} : { password }),
    ...(o.tls ? { tls: o.tls } : {}),
  };
  const common: RedisOptions = {
    ...auth,
    connectionName: o.name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    autoResubscribe: true,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => backoffDelay(attempt, REDIS_RECONNECT),
  };
  let client: RedisClient;
  if (t.mode === "sentinel" && t.sentinel) {
    const sentinelPassword = secret(env, t.sentinel.passwordEnv, "redis.sentinel.passwordEnv");
    client = new Redis({
      ...common,
      sentinels: t.sentinel.nodes.map((n) => ({ host: n.host, port: n.port })),
      name: t.sentinel.name,
      role: "master",
      sentinelRetryStrategy: (attempt) => backoffDelay(attempt, REDIS_RECONNECT),
      ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
      ...(o.tls ? { enableTLSForSentinelMode: true, sentinelTLS: o.tls } : {}),
    });
  } else if (t.mode === "cluster" && t.cluster) {
    client = new Cluster(
      t.cluster.nodes.map((n) => ({ host: n.host, port: n.port })),
      {
        shardedSubscribers: true,
        enableReadyCheck: true,
        clusterRetryStrategy: (attempt) => backoffDelay(attempt, REDIS_RECONNECT),
        redisOptions: { ...auth, connectionName: o.name, commandTimeout: COMMAND_TIMEOUT_MS },
      },
    );
  } else {
    throw new OptionsError(
      `redis.${t.mode} settings are missing`,
      `add redis.${t.mode}.nodes (see docs/scaling.md)`,
    );
  }
  logConnectionStates(client, o.logger, where, o.name);
  return client;
}

/** Connects the command client and its pub/sub bus. */
export function connectTopology(o: TopologyOptions): RedisTopology {
  const command = connectClient(o);
  const describe = describeTopology(o);
  const bus = createBus(command, describe);
  return {
    mode: o.topology.mode,
    command,
    bus,
    describe,
    ready: (timeoutMs) => waitReady(command, describe, timeoutMs),
    async close() {
      await bus.close();
      await closeRedis(command);
    },
  };
}
