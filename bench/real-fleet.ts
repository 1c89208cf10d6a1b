/**
 * A real fleet for the end-to-end benchmarks (`npm run bench:e2e`, `npm run bench:vs-ssh`): a
 * private redis-server on loopback, a controller key and allowed_signers from
 * `commodore keygen`, and N real `commodore agent` processes (bin/commodore.js, compiled dist/),
 * each with its own ssh-keygen ed25519 host key, accepted with
 * `commodore nodes accept --all-matching --where 'hostname=*'`.
 *
 * Every child runs in its own process group (detached) and is stopped by group, on normal exit
 * and on SIGINT/SIGTERM. Nothing here imports node:test (the test harness does).
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** The package root: the nearest folder above this file with a package.json (from dist-bench/ too). */
export const ROOT = packageRoot(import.meta.dirname);
export const CLI = join(ROOT, "bin", "commodore.js");
const STOP_GRACE_MS = 2_000;
const POLL_MS = 50;
const NS_PER_MS = 1e6;

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** Children started by the bench, each the leader of its own process group. */
const groups = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Runs `fn` (synchronously) when the bench stops, before the process groups are killed. */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

/** SIGKILLs every group still alive and runs the cleanups (synchronous: safe in "exit"). */
export function killEverything(): void {
  for (const c of groups) killGroup(c, "SIGKILL");
  groups.clear();
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

process.on("exit", killEverything);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
    killEverything();
    process.exit(130);
  });
}

/** Spawns `command` as the leader of a new process group that the bench stops at exit. */
export function spawnGroup(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  groups.add(child);
  child.once("exit", () => {
    // The leader is gone; stragglers of its group are killed anyway.
    killGroup(child, "SIGKILL");
    groups.delete(child);
  });
  return child;
}

/** SIGTERMs the group, then SIGKILLs it after a grace period. */
export async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    killGroup(child, "SIGKILL");
    return;
  }
  const exited = new Promise((r) => child.once("exit", r));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** A temporary directory removed when the bench stops. */
export function benchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it is true or `timeoutMs` passed. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** True when something accepts TCP connections at host:port. */
export async function canConnect(host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = connect({ host, port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on("error", () => resolve(false));
  });
}

/** Runs a command to completion (bounded); resolves with its output or rejects. */
export async function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return await new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} ${args.join(" ")}: ${err.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** One timed run of a command: wall time, and when a line matching `mark` appeared. */
export interface TimedRun {
  readonly wallMs: number;
  /** Milliseconds from spawn until the first stdout line matching `mark` (NaN if none). */
  readonly markMs: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns `command` in its own process group and times it until it exited and closed stdio. */
export async function timed(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; mark?: RegExp } = {},
): Promise<TimedRun> {
  const t0 = performance.now();
  const child = spawnGroup(command, args, {
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let markMs = NaN;
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString("utf8");
    if (Number.isNaN(markMs) && options.mark?.test(stdout)) markMs = performance.now() - t0;
  });
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), options.timeoutMs ?? 120_000);
  const code = await new Promise<number | null>((resolve) =>
    child.once("close", (c: number | null) => resolve(c)),
  );
  const wallMs = performance.now() - t0;
  clearTimeout(timer);
  return { wallMs, markMs, code, stdout, stderr };
}

/** Median of `values` (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Generates an ed25519 key with ssh-keygen; returns the private key path. */
export async function sshKeygen(dir: string, name: string, comment = name): Promise<string> {
  const path = join(dir, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  return path;
}

/** A running private redis-server. */
export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
}

/** Starts redis-server on a free loopback port, persisting nothing. */
export async function startRedisServer(dir: string): Promise<BenchRedis> {
  const port = await freePort();
  const child = spawnGroup(
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
      "--maxclients",
      "10000",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  await waitUntil(`redis-server on ${port}`, () => canConnect("127.0.0.1", port));
  return { url: `redis://127.0.0.1:${port}`, port, child };
}

/** The fleet: redis, controller key, real agent processes. */
export interface RealFleet {
  readonly redis: BenchRedis;
  readonly dir: string;
  /** Controller key path and principal: pass as `--key`/`--principal`. */
  readonly keyPath: string;
  readonly principal: string;
  readonly agents: readonly { hostname: string; child: ChildProcess; pid: number }[];
  /** `commodore fleet|nodes …` flags that reach this fleet. */
  readonly flags: readonly string[];
  stop(): Promise<void>;
}

/** Environment for commodore processes (no config file from /etc, no USER surprises). */
export function cliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env["COMMODORE_CONFIG"];
  delete env["CONFIGURATION_DIRECTORY"];
  delete env["REDIS_URL"];
  return env;
}

/**
 * Starts redis and `count` agent processes named `hostname(i)` with facts `facts(i)`, and
 * accepts their keys. Needs dist/ (`npm run build`).
 */
export async function startRealFleet(
  count: number,
  hostname: (i: number) => string,
  facts: (i: number) => Record<string, string> = () => ({}),
): Promise<RealFleet> {
  if (!existsSync(join(ROOT, "dist", "cli", "main.js")))
    throw new Error("dist/ is missing: run `npm run build` first");
  const dir = benchDir("commodore-bench-fleet-");
  const redis = await startRedisServer(dir);
  const principal = "bench";
  const keyPath = join(dir, "controller");
  const env = cliEnv();
  const keygen = await run(
    process.execPath,
    [CLI, "keygen", "--out", keyPath, "--principal", principal],
    {
      env,
    },
  );
  const signer = keygen.stdout.split("\n").find((l) => l.startsWith(`${principal} namespaces=`));
  if (signer === undefined) throw new Error(`no allowed_signers line in: ${keygen.stdout}`);
  const allowedSigners = join(dir, "allowed_signers");
  writeFileSync(allowedSigners, `${signer}\n`);
  const flags = ["--redis", redis.url, "--key", keyPath, "--principal", principal];

  const agents: { hostname: string; child: ChildProcess; pid: number }[] = [];
  const starting: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const name = hostname(i);
    const hostKey = await sshKeygen(dir, `host-${i}`, name);
    const factArgs = Object.entries(facts(i)).flatMap(([k, v]) => ["--fact", `${k}=${v}`]);
    const child = spawnGroup(
      process.execPath,
      [
        CLI,
        "agent",
        "--redis",
        redis.url,
        "--host-key",
        hostKey,
        "--allowed-signers",
        allowedSigners,
        "--hostname",
        name,
        ...factArgs,
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString("utf8")).slice(-4_000)));
    starting.push(
      waitUntil(`agent ${name}`, () => {
        if (child.exitCode !== null) throw new Error(`agent ${name} exited: ${err}`);
        return out.includes("serving");
      }),
    );
    agents.push({ hostname: name, child, pid: child.pid ?? 0 });
  }
  await Promise.all(starting);
  // Accept every pending key (the agents registered when they said "serving"), then check.
  await waitUntil(
    "every agent pending or listed",
    async () => {
      await run(
        process.execPath,
        [CLI, "nodes", "accept", "--all-matching", "--where", "hostname=*", ...flags],
        { env },
      ).catch(() => undefined);
      const listed = await run(process.execPath, [CLI, "nodes", "list", "--json", ...flags], {
        env,
      });
      return countListed(listed.stdout) >= count;
    },
    60_000,
  );
  return {
    redis,
    dir,
    keyPath,
    principal,
    agents,
    flags,
    async stop() {
      await Promise.all(agents.map((a) => stopGroup(a.child)));
      await stopGroup(redis.child);
    },
  };
}

function countListed(json: string): number {
  const data: unknown = JSON.parse(json);
  if (Array.isArray(data)) return data.length;
  if (data && typeof data === "object") {
    for (const v of Object.values(data)) if (Array.isArray(v)) return v.length;
  }
  return 0;
}

/**
 * CPU time `pid` has used, in ms, from the scheduler's own accounting (/proc/<pid>/task/<tid>/
 * schedstat, nanoseconds, every thread): exact, where utime/stime are sampled at the clock tick
 * (10 ms) and a process that runs in sub-millisecond bursts is charged by chance.
 */
export function cpuMsOf(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / NS_PER_MS;
}
