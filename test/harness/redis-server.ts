/**
 * Spawns a private, real `redis-server` on a free loopback port for one test file.
 * Nothing is persisted; the process is killed when the test calls `stop()` or exits.
 */
import type { ChildProcess } from "node:child_process";
import { answersPing } from "../../app/redis-server.ts";
import { freePort, waitFor } from "./ports.ts";
import { restartable, spawnTracked } from "./process.ts";
import { dataNodeArgs } from "./redis-proc.ts";
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

async function launch(port: number, dir: string, extraArgs: string[]): Promise<ChildProcess> {
  const child = spawnTracked("redis-server", [...dataNodeArgs(port, dir), ...extraArgs], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitFor(`redis-server on port ${port}`, () => answersPing(port));
  return child;
}

/** Starts a real redis-server for a test. */
export async function startRedis(extraArgs: string[] = []): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir("commodore-redis-");
  const child = await launch(port, dir, extraArgs);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    ...restartable("redis-server", child, () => launch(port, dir, extraArgs)),
  };
}
