/**
 * A real three-master Redis Cluster for a test file: three `redis-server --cluster-enabled yes`
 * processes on free loopback ports, joined by `redis-cli --cluster create … --cluster-replicas 0`,
 * ready once every node reports `cluster_state:ok`.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { HostPort } from "../../lib/redis/options.ts";
import { waitFor } from "./ports.ts";
import {
  dataNodeArgs,
  freeClusterPort,
  spawnRedis,
  withProbe,
  type RedisProc,
} from "./redis-proc.ts";
import { tempDir } from "./tmp.ts";

const run = promisify(execFile);
const MASTERS = 3;
const NODE_TIMEOUT_MS = 2_000;
const READY_TIMEOUT_MS = 20_000;

/** A running test cluster. */
export interface TestCluster {
  readonly nodes: readonly HostPort[];
  readonly procs: readonly RedisProc[];
  stop(): Promise<void>;
}

/** Starts three masters (each with `extraArgs`) and creates the cluster. */
export async function startCluster(extraArgs: readonly string[] = []): Promise<TestCluster> {
  const dir = tempDir("commodore-cluster-");
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < MASTERS; i++) ports.push(await freeClusterPort(taken));
  const procs = await Promise.all(
    ports.map((port) =>
      spawnRedis(port, [
        ...dataNodeArgs(port, dir),
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        String(NODE_TIMEOUT_MS),
        ...extraArgs,
      ]),
    ),
  );
  try {
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    for (const port of ports)
      await waitFor(
        `cluster_state:ok on ${port}`,
        () => withProbe(port, async (r) => (await r.cluster("INFO")).includes("cluster_state:ok")),
        READY_TIMEOUT_MS,
        100,
      );
  } catch (err) {
    await Promise.all(procs.map((p) => p.kill()));
    throw err;
  }
  return {
    nodes: ports.map((port) => ({ host: "127.0.0.1", port })),
    procs,
    async stop() {
      await Promise.all(procs.map((p) => p.kill()));
    },
  };
}
