/**
 * The embedded Redis: a private `redis-server` from PATH on a free loopback port, with its
 * data in the state directory. Used by `commodore start` when no Redis URL is configured.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import { CommodoreError } from "../../lib/errors.ts";

/** How long the embedded server may take to answer PING. */
export const REDIS_START_TIMEOUT_MS = 10_000;
/** How long it may take to save and exit on shutdown before it is killed. */
export const REDIS_STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 50;

/** The one line printed when redis-server is missing. */
export const REDIS_MISSING =
  "redis-server not found on PATH: install it with `apt-get install redis-server` or set REDIS_URL";

/** A running embedded redis-server. */
export interface EmbeddedRedis {
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** The full path of `redis-server` on PATH, or undefined. */
export function findRedisServer(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env["PATH"] ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function freeLoopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = addr !== null && typeof addr === "object" ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when a Redis on 127.0.0.1:`port` answers PING (false while it is not up yet). */
export async function answersPing(port: number): Promise<boolean> {
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
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Starts redis-server with `--dir <dataDir>`; throws E_REDIS_MISSING when it is not installed. */
export async function startEmbeddedRedis(
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<EmbeddedRedis> {
  const binary = findRedisServer(env);
  if (binary === undefined) throw new CommodoreError("E_REDIS_MISSING", REDIS_MISSING);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const port = await freeLoopbackPort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dataDir,
    "--save",
    "60 1",
    "--appendonly",
    "no",
    "--protected-mode",
    "yes",
  ];
  const child: ChildProcess = spawn(binary, args, {
    stdio: ["ignore", "ignore", "pipe"],
    detached: false,
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new CommodoreError(
        "E_REDIS_START",
        `embedded redis-server did not start: ${stderr.trim() || "no output"}`,
        {
          hint: "set REDIS_URL to use an existing Redis",
        },
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), REDIS_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
