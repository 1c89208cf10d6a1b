/**
 * Nothing acknowledged is lost in a crash: `npm start` (node bin/commodore.js start) in its own
 * process group, a job, a pending confirmation and a revocation of the local agent's key (with
 * the CLI), then SIGKILL of the whole group — the bot and its embedded redis-server — 1.5 s
 * later, as a power cut or the OOM killer would. After a start on the same state directory the
 * job, the revocation and the confirmation are all there; the revoked local key is not accepted
 * again (a clean restart does not either), and the documented remedy, a new host key, works.
 * With an external Redis that persists nothing, start says so.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { startCommodore } from "../harness/commodore-process.ts";
import { freePort, waitFor } from "../harness/ports.ts";
import { spawnTracked } from "../harness/process.ts";
import { startRedis } from "../harness/redis-server.ts";
import { tempDir } from "../harness/tmp.ts";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/commodore.js");
/** How long after the last acknowledged write the process group is killed. */
const KILL_AFTER_MS = 1_500;
const START_TIMEOUT_MS = 30_000;
const OPS_TOKEN = "ops-token-0123456789abcdef";
const APPROVER_TOKEN = "approver-token-0123456789abcdef";
const REVOKED_WARNING = "local agent's key is revoked or rejected: it is not accepted again";

/** Process groups started here, killed whatever happens to the test. */
const groups = new Set<number>();
const killGroup = (pid: number) => {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
};
after(() => {
  for (const pid of groups) killGroup(pid);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The JSON log lines of `stderr` with message `msg`. */
function logLines(stderr: string, msg: string): Array<Record<string, unknown>> {
  return stderr
    .split("\n")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter((l) => l["msg"] === msg);
}

interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly redisPid: number;
  readonly hostname: string;
  readonly fingerprint: string;
  stderr(): string;
}

/** `node bin/commodore.js start` as the leader of a process group of its own. */
async function startInGroup(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawnTracked(process.execPath, [BIN, "start"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  groups.add(pid);
  const out = { stdout: "", stderr: "" };
  child.stdout?.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out.stderr += d.toString()));
  await waitFor(
    "the curl line",
    () => {
      if (child.exitCode !== null) throw new Error(`commodore exited: ${out.stderr}`);
      return /^curl /m.test(out.stdout);
    },
    START_TIMEOUT_MS,
  );
  const redis = logLines(out.stderr, "embedded redis-server started")[0];
  const agent = logLines(out.stderr, "local agent started")[0];
  assert.ok(redis && agent, out.stderr);
  return {
    child,
    pid,
    redisPid: Number(redis["pid"]),
    hostname: String(agent["hostname"]),
    fingerprint: String(agent["fingerprint"]),
    stderr: () => out.stderr,
  };
}

/** SIGKILL of the whole group; resolves once the bot and its redis-server are gone. */
async function crash(started: Started): Promise<void> {
  const exited = new Promise((r) => started.child.once("exit", r));
  killGroup(started.pid);
  await exited;
  await waitFor("the embedded redis-server to die", () => !alive(started.redisPid), 10_000);
  groups.delete(started.pid);
}

/** SIGINT (a clean stop); resolves with the exit code once the group is gone. */
async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((r) => started.child.once("exit", (c) => r(c)));
  started.child.kill("SIGINT");
  const code = await exited;
  await waitFor("the embedded redis-server to exit", () => !alive(started.redisPid), 10_000);
  groups.delete(started.pid);
  return code;
}

async function api(
  base: string,
  token: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

type NodeRow = { hostname: string; state: string; fingerprint: string };

async function nodes(base: string, path: "/nodes" | "/nodes/pending"): Promise<NodeRow[]> {
  return (await api(base, APPROVER_TOKEN, path)).json["nodes"] as NodeRow[];
}

/**
 * `ops` may run fleet commands only with a second person's approval (any host: `hostsOver:
 * 0`), so its commands are parked as pending confirmations; `approver` may run anything.
 */
const CONFIG = `roles:
  gated:
    grants:
      - command: fleet
        approval: { hostsOver: 0 }
      - command: jobs
      - command: job
  admin:
    grants:
      - command: "*"
principals:
  - id: ops
    roles: [gated]
    http: { tokenEnv: CRASH_OPS_TOKEN }
  - id: approver
    roles: [admin]
    http: { tokenEnv: CRASH_APPROVER_TOKEN }
agent:
  local: true
  facts: { role: local }
`;

describe("a crash of npm start (SIGKILL of its process group)", () => {
  test("loses nothing it acknowledged: the job, the revocation and a pending confirmation", async () => {
    const root = tempDir("commodore-crash-");
    const state = join(root, "state");
    const configFile = join(root, "commodore.yaml");
    writeFileSync(configFile, CONFIG);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env["PATH"] ?? "",
      HOME: join(root, "home"),
      COMMODORE_STATE_DIR: state,
      COMMODORE_CONFIG: configFile,
      PORT: String(port),
      LOG_LEVEL: "info",
      CRASH_OPS_TOKEN: OPS_TOKEN,
      CRASH_APPROVER_TOKEN: APPROVER_TOKEN,
    };

    const first = await startInGroup(env);
    const host = first.hostname;
    await waitFor("the local agent accepted", async () =>
      (await nodes(base, "/nodes")).some((n) => n.hostname === host),
    );
    // 1. A job.
    const fleet = await api(base, APPROVER_TOKEN, "/fleet", { args: ["ping"] });
    assert.ok([200, 202].includes(fleet.status), JSON.stringify(fleet.json));
    const jobId = String(fleet.json["jobId"]);
    assert.match(jobId, /^j/);
    // 2. A pending confirmation (ops's fleet commands need the approver).
    const parked = await api(base, OPS_TOKEN, "/commands", { command: "fleet uptime" });
    assert.equal(parked.status, 202, JSON.stringify(parked.json));
    const code = String((parked.json["confirm"] as { code: string }).code);
    // 3. The local agent's key revoked with the CLI, on the bot's login to the embedded Redis.
    const password = readFileSync(
      join(state, "redis", "credentials", "bot.password"),
      "utf8",
    ).trim();
    const socket = join(state, "redis", "redis.sock");
    const redisUrl = `unix://commodore-bot:${encodeURIComponent(password)}@${socket}`;
    const revoke = await run(process.execPath, [
      BIN,
      "nodes",
      "revoke",
      host,
      "--redis",
      redisUrl,
      "--key",
      join(state, "keys", "controller_ed25519"),
      "--by",
      "crash-test",
    ]);
    assert.equal(revoke.stdout.trim(), `${host} ${first.fingerprint}: accepted -> rejected`);
    // 4. The power cut.
    await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
    await crash(first);

    const second = await startInGroup(env);
    const job = await api(base, APPROVER_TOKEN, `/jobs/${jobId}`);
    assert.equal(job.status, 200, "the job acknowledged before the crash is still there");
    assert.equal((job.json["job"] as { state: string }).state, "succeeded");

    assert.equal(second.fingerprint, first.fingerprint, "the same host key");
    const warning = logLines(second.stderr(), REVOKED_WARNING);
    assert.equal(warning.length, 1, second.stderr());
    assert.equal(warning[0]?.["level"], "warn");
    assert.match(String(warning[0]?.["hint"]), /agent_host_ed25519/);
    await waitFor("the local agent registered, rejected", async () =>
      (await nodes(base, "/nodes/pending")).some(
        (n) => n.hostname === host && n.state === "rejected",
      ),
    );
    assert.ok(
      !(await nodes(base, "/nodes")).some((n) => n.hostname === host),
      "the revoked key is not accepted again",
    );

    const bot = new Redis({
      path: socket,
      username: "commodore-bot",
      password,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    bot.on("error", () => undefined);
    try {
      assert.equal(await bot.exists(`commodore:confirm:${code}`), 1, "the confirmation is kept");
    } finally {
      bot.disconnect();
    }
    const confirmed = await api(base, APPROVER_TOKEN, "/commands", { command: `confirm ${code}` });
    assert.notEqual(confirmed.status, 404, JSON.stringify(confirmed.json));
    assert.ok(!JSON.stringify(confirmed.json).includes("E_CONFIRM_UNKNOWN"));

    // A clean stop and start does not accept it again either.
    assert.equal(await stop(second), 0);
    const third = await startInGroup(env);
    assert.equal(logLines(third.stderr(), REVOKED_WARNING).length, 1, third.stderr());
    assert.ok(!(await nodes(base, "/nodes")).some((n) => n.hostname === host));
    assert.equal(await stop(third), 0);

    // The remedy the warning names: a new host key, generated and accepted at the next start.
    const hostKey = join(state, "keys", "agent_host_ed25519");
    rmSync(hostKey);
    rmSync(`${hostKey}.pub`);
    const fourth = await startInGroup(env);
    assert.notEqual(fourth.fingerprint, first.fingerprint);
    assert.equal(logLines(fourth.stderr(), REVOKED_WARNING).length, 0, fourth.stderr());
    await waitFor("the new key accepted", async () =>
      (await nodes(base, "/nodes")).some(
        (n) => n.hostname === host && n.fingerprint === fourth.fingerprint,
      ),
    );
    assert.equal(await stop(fourth), 0);
  });
});

describe("start with an external Redis that persists nothing", () => {
  test("warns once what a crash loses and what to set, and starts anyway", async () => {
    const redis = await startRedis(["--appendonly", "no", "--save", ""]);
    try {
      const root = tempDir("commodore-crash-ext-");
      const port = await freePort();
      const bot = await startCommodore({
        PATH: process.env["PATH"] ?? "",
        HOME: join(root, "home"),
        COMMODORE_STATE_DIR: join(root, "state"),
        PORT: String(port),
        REDIS_URL: redis.url,
        LOG_LEVEL: "info",
      });
      const warnings = logLines(
        bot.stderr(),
        "Redis persists nothing: a crash or restart of it loses every job, pending confirmation and enrollment decision (accepted and revoked host keys)",
      );
      assert.equal(warnings.length, 1, bot.stderr());
      assert.equal(warnings[0]?.["level"], "warn");
      assert.match(String(warnings[0]?.["hint"]), /appendonly yes/);
      assert.match(String(warnings[0]?.["hint"]), /appendfsync/);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 200, "started anyway");
      assert.equal(await bot.interrupt(), 0);
    } finally {
      await redis.stop();
    }
  });
});
