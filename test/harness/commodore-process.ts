/**
 * Runs `node bin/commodore.js start` as a child process, as `npm start` would, and waits for
 * the curl line it prints.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { waitFor } from "./ports.ts";
import { spawnTracked } from "./process.ts";

/** A running `commodore start`. */
export interface StartedCommodore {
  readonly child: ChildProcess;
  /** The printed curl line. */
  readonly curl: string;
  /** Pid of the embedded redis-server, from the log. */
  readonly redisPid: number | undefined;
  stdout(): string;
  stderr(): string;
  /** Sends SIGINT and resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

/** Spawns `commodore start` with `env` (merged over a minimal environment). */
export function spawnCommodore(
  args: string[],
  env: NodeJS.ProcessEnv,
): {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<number | null>;
} {
  const bin = join(import.meta.dirname, "../../bin/commodore.js");
  const child = spawnTracked(process.execPath, [bin, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  child.stdout?.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return { child, out, exited };
}

/** Starts `commodore start` and waits until it printed its curl line. */
export async function startCommodore(
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
): Promise<StartedCommodore> {
  const { child, out, exited } = spawnCommodore(["start"], env);
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  await waitFor(
    "the curl line",
    () => {
      if (exitCode !== undefined) throw new Error(`commodore exited ${exitCode}: ${out.stderr}`);
      return /^curl .*$/m.test(out.stdout);
    },
    timeoutMs,
  );
  const curl = /^curl .*$/m.exec(out.stdout)?.[0] ?? "";
  const pid = /"msg":"embedded redis-server started".*?"pid":(\d+)/.exec(out.stderr)?.[1];
  return {
    child,
    curl,
    redisPid: pid === undefined ? undefined : Number(pid),
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    async interrupt() {
      child.kill("SIGINT");
      return await exited;
    },
  };
}
