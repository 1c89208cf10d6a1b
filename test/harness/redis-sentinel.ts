/**
 * A real Sentinel deployment for a test file: a primary, one replica and three Sentinels
 * (quorum 2, `down-after-milliseconds` 1000) on free loopback ports. `killPrimary()` crashes
 * the primary and waits until the Sentinels promoted the replica.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HostPort } from "../../lib/redis/options.ts";
import { freePort, waitFor } from "./ports.ts";
import { dataNodeArgs, spawnRedis, withProbe, type RedisProc } from "./redis-proc.ts";
import { tempDir } from "./tmp.ts";

/** The master name the Sentinels monitor. */
export const MASTER_NAME = "mymaster";
const SENTINELS = 3;
const QUORUM = 2;
const DOWN_AFTER_MS = 1_000;
const FAILOVER_TIMEOUT_MS = 5_000;
const SETTLE_TIMEOUT_MS = 20_000;
const POLL_MS = 100;

/** A running Sentinel deployment. */
export interface TestSentinel {
  readonly sentinels: readonly HostPort[];
  /** `sentinel://…/mymaster` for the topology URL parser. */
  readonly url: string;
  /** Port of the current primary. */
  primaryPort(): number;
  /** SIGKILLs the primary and waits for the promotion; returns the new primary's port. */
  killPrimary(): Promise<number>;
  stop(): Promise<void>;
}

async function masterPortSeenBy(sentinelPort: number): Promise<number> {
  const addr = await withProbe(sentinelPort, (r) =>
    r.call("SENTINEL", "get-master-addr-by-name", MASTER_NAME),
  );
  return Number((addr as string[])[1]);
}

/** Starts primary, replica and three Sentinels and waits until they all know each other. */
export async function startSentinel(): Promise<TestSentinel> {
  const dir = tempDir("commodore-sentinel-");
  const procs = new Map<number, RedisProc>();
  const sentinelProcs: RedisProc[] = [];
  const stopAll = async () => {
    await Promise.all([...procs.values(), ...sentinelProcs].map((p) => p.kill()));
  };
  try {
    const primary = await freePort();
    const replica = await freePort();
    procs.set(primary, await spawnRedis(primary, dataNodeArgs(primary, dir)));
    procs.set(
      replica,
      await spawnRedis(replica, [
        ...dataNodeArgs(replica, dir),
        "--replicaof",
        "127.0.0.1",
        String(primary),
      ]),
    );
    await waitFor(
      "replica in sync",
      () =>
        withProbe(replica, async (r) =>
          (await r.info("replication")).includes("master_link_status:up"),
        ),
      SETTLE_TIMEOUT_MS,
      POLL_MS,
    );
    const ports: number[] = [];
    for (let i = 0; i < SENTINELS; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary} ${QUORUM}`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          "",
        ].join("\n"),
      );
      sentinelProcs.push(await spawnRedis(port, [conf, "--sentinel"]));
      ports.push(port);
    }
    for (const port of ports)
      await waitFor(
        `sentinel ${port} knowing the other sentinels and the replica`,
        () =>
          withProbe(port, async (r) => {
            const others = (await r.call("SENTINEL", "sentinels", MASTER_NAME)) as unknown[];
            const replicas = (await r.call("SENTINEL", "replicas", MASTER_NAME)) as unknown[];
            return others.length === SENTINELS - 1 && replicas.length === 1;
          }),
        SETTLE_TIMEOUT_MS,
        POLL_MS,
      );
    let current = primary;
    return {
      sentinels: ports.map((port) => ({ host: "127.0.0.1", port })),
      url: `sentinel://${ports.map((p) => `127.0.0.1:${p}`).join(",")}/${MASTER_NAME}`,
      primaryPort: () => current,
      async killPrimary() {
        const old = current;
        await procs.get(old)?.kill(true);
        const next = [...procs.keys()].find((p) => p !== old) ?? old;
        await waitFor(
          "sentinels promoting the replica",
          async () => {
            for (const port of ports) if ((await masterPortSeenBy(port)) !== next) return false;
            return withProbe(next, async (r) => ((await r.role()) as unknown[])[0] === "master");
          },
          SETTLE_TIMEOUT_MS,
          POLL_MS,
        );
        current = next;
        return next;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
