/**
 * Spawns a private, real `redis-server` on a free loopback port for one test file.
 * Nothing is persisted; the process is killed when the test calls `stop()` or exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { freePort, waitFor } from "./ports.ts";
import { tempDir } from "./tmp.ts";

/** A running test Redis. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL when `hard`). */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port (after `stop`). */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

async function launch(port: number, dir: string, extraArgs: string[]): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
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
      ...extraArgs,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  live.add(child);
  child.on("exit", () => live.delete(child));
  await waitFor(`redis-server on port ${port}`, async () => {
    const probe = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      retryStrategy: () => null,
    });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG";
    } finally {
      probe.disconnect();
    }
  });
  return child;
}

/** Starts a real redis-server for a test. */
export async function startRedis(extraArgs: string[] = []): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir("commodore-redis-");
  let child: ChildProcess | undefined = await launch(port, dir, extraArgs);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop(hard = false) {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill(hard ? "SIGKILL" : "SIGTERM");
      await exited;
    },
    async restart() {
      if (child) throw new Error("redis-server is still running");
      child = await launch(port, dir, extraArgs);
    },
  };
}
