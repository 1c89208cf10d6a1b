import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, waitFor } from "../harness/ports.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";
import { spawnCommodore, startCommodore } from "../harness/commodore-process.ts";

const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? "/tmp",
    LOG_LEVEL: "info",
    ...extra,
  };
}

describe("npm start from a clean state", () => {
  test("answers the printed curl line, keeps jobs across a restart, and stops every child", async () => {
    const state = join(tempDir("commodore-start-"), "state");
    const port = await freePort();
    const env = cleanEnv({ COMMODORE_STATE_DIR: state, PORT: String(port) });
    const first = await startCommodore(env);
    assert.equal(
      first.curl,
      `curl -XPOST -H 'Content-Type: application/json' -d '{"args":["uptime"]}' http://127.0.0.1:${port}/fleet`,
    );
    const { stdout } = await run("sh", ["-c", `${first.curl} -s`]);
    const body = JSON.parse(stdout) as {
      count: number;
      message: string;
      summary: { ok: number; allOk: boolean };
      jobId: string;
    };
    assert.equal(body.count, 1);
    assert.equal(body.summary.allOk, true);
    assert.equal(body.summary.ok, 1);
    assert.match(body.message, /load average/);
    assert.ok(existsSync(join(state, "keys", "controller_ed25519")), "keys generated on first run");
    assert.ok(existsSync(join(state, "audit.log")));

    const redisPid = first.redisPid;
    assert.ok(redisPid !== undefined && alive(redisPid));
    assert.equal(await first.interrupt(), 0);
    await waitFor("embedded redis-server to exit", () => !alive(redisPid), 10_000);

    const second = await startCommodore(env);
    const job = await fetch(`http://127.0.0.1:${port}/jobs/${body.jobId}`);
    assert.equal(job.status, 200, "the job from the first run is still there");
    assert.equal(((await job.json()) as { job: { state: string } }).job.state, "succeeded");
    assert.equal(await second.interrupt(), 0);
    if (second.redisPid !== undefined)
      await waitFor("redis exit", () => !alive(second.redisPid as number), 10_000);
  });

  test("a stranger's agent on the embedded Redis, even with the agent login, stays pending and never answers", async () => {
    const state = join(tempDir("commodore-start-"), "state");
    const port = await freePort();
    const env = cleanEnv({ COMMODORE_STATE_DIR: state, PORT: String(port) });
    const bot = await startCommodore(env);
    const password = readFileSync(
      join(state, "redis", "credentials", "agent.password"),
      "utf8",
    ).trim();
    const evilKey = makeKey("ed25519", "evil");
    const evil = spawnCommodore(
      [
        "agent",
        "--hostname",
        "evil01",
        "--fact",
        "role=local",
        "--host-key",
        evilKey.privatePath,
        "--allowed-signers",
        join(state, "keys", "allowed_signers"),
      ],
      // The embedded Redis listens only on a unix socket in the state directory.
      {
        ...env,
        REDIS_URL: `unix://commodore-agent:${password}@${join(state, "redis", "redis.sock")}`,
      },
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor("evil01 listed as pending", async () => {
      const res = await fetch(`${base}/nodes/pending`);
      return (await res.text()).includes("evil01");
    });
    const pending = (await (await fetch(`${base}/nodes/pending`)).json()) as {
      nodes: { hostname: string; state: string; fingerprint: string }[];
    };
    assert.deepEqual(
      pending.nodes.map((n) => [n.hostname, n.state, n.fingerprint]),
      [["evil01", "pending", evilKey.fingerprint]],
    );
    const res = await fetch(`${base}/fleet`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ args: ["ping"], where: { role: "local" } }),
    });
    const body = (await res.json()) as { summary: { ok: number; expected: number } };
    assert.equal(body.summary.expected, 1, "only the local agent is expected");
    assert.equal(body.summary.ok, 1);
    const anonymousAccept = await fetch(`${base}/commands`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command: "nodes accept evil01" }),
    });
    assert.equal(anonymousAccept.status, 403, "local callers may not accept keys");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const runtime of ["process_resident_memory_bytes", "nodejs_eventloop_lag_seconds"])
      assert.match(metrics, new RegExp(`^${runtime} `, "m"), `${runtime} is served`);
    evil.child.kill("SIGINT");
    await evil.exited;
    assert.equal(await bot.interrupt(), 0);
  });

  test("without redis-server on PATH it prints one clear line", async () => {
    const state = join(tempDir("commodore-start-"), "state");
    const bin = tempDir("commodore-path-");
    symlinkSync(process.execPath, join(bin, "node"));
    const { out, exited } = spawnCommodore(["start"], {
      PATH: bin,
      COMMODORE_STATE_DIR: state,
      PORT: String(await freePort()),
    });
    assert.equal(await exited, 69);
    assert.equal(
      out.stderr,
      "redis-server not found on PATH: install it with `apt-get install redis-server` or set REDIS_URL\n",
    );
  });
});
