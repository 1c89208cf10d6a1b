/**
 * Spawning real redis-server processes (data nodes and Sentinels) for the scale tests, with
 * ports that leave room for the cluster bus (port + 10000) and cleanup at process exit.
 */
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { answersPing } from "../../app/redis-server.ts";
import { waitFor } from "./ports.ts";
import { spawnTracked, stopChild } from "./process.ts";

const LOW_PORT = 20_000;
const PORT_SPAN = 20_000;
const CLUSTER_BUS_OFFSET = 10_000;

async function isFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A free port whose cluster-bus twin (port + 10000) is free too. */
export async function freeClusterPort(taken: Set<number> = new Set()): Promise<number> {
  for (;;) {
    const port = LOW_PORT + Math.floor(Math.random() * PORT_SPAN);
    if (taken.has(port) || taken.has(port + CLUSTER_BUS_OFFSET)) continue;
    if ((await isFree(port)) && (await isFree(port + CLUSTER_BUS_OFFSET))) {
      taken.add(port);
      taken.add(port + CLUSTER_BUS_OFFSET);
      return port;
    }
  }
}

/** A one-shot client to a test server (no reconnects). */
export function probe(port: number): Redis {
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
  r.on("error", () => undefined);
  return r;
}

/** Runs `fn` with a probe client, always disconnecting it. */
export async function withProbe<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = probe(port);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** A spawned redis-server. */
export interface RedisProc {
  readonly port: number;
  /** SIGKILL (crash) or SIGTERM, resolving once it exited. */
  kill(hard?: boolean): Promise<void>;
}

/** Spawns `redis-server args…` listening on `port` and waits until it answers PING. */
export async function spawnRedis(port: number, args: readonly string[]): Promise<RedisProc> {
  const child = spawnTracked("redis-server", [...args], { stdio: ["ignore", "ignore", "inherit"] });
  await waitFor(`redis-server on port ${port}`, () => answersPing(port));
  return {
    port,
    kill: (hard = true) => stopChild(child, hard ? "SIGKILL" : "SIGTERM"),
  };
}

/** Common arguments for a throw-away data node. */
export function dataNodeArgs(port: number, dir: string): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ];
}
