/**
 * `cancel <job>`, `DELETE /jobs/:id` and `POST /jobs/:id/cancel` against real agents running
 * real processes: the provider's process group dies, hosts end `cancelled`, no new batch
 * starts, only the requester or a `cancel` grant may do it, and the audit names both people.
 * Attacks: a cancel from another allowed signer, an unsigned cancel on Redis, a forged or
 * replayed replica broadcast.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { BotEvent } from "../../bot/contract.ts";
import { cancelCommand } from "../../bot/commands/builtins/cancel.ts";
import { parseCommand } from "../../bot/commands/parse.ts";
import { CommandRegistry } from "../../bot/commands/registry.ts";
import { JobCanceller, JOB_CANCEL_KIND, jobCancelChannel } from "../../bot/jobs/cancel.ts";
import { RedisJobStore } from "../../bot/jobs/redis-store.ts";
import { Policy } from "../../bot/permissions/policy.ts";
import { CancelRequest } from "../../executors/executor.ts";
import { REQUEST_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import { PROTOCOL_VERSION, type CancelMessage } from "../../executors/fleet/protocol/messages.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { createBus } from "../../lib/redis/bus.ts";
import { hangingScript, processGone, trustSigner } from "../harness/actions.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { who } from "../harness/bot.ts";
import { spawnCommodore } from "../harness/commodore-process.ts";
import { startTestHttp, type TestHttp } from "../harness/http.ts";
import { waitFor } from "../harness/ports.ts";
import { testSealer } from "../harness/seal.ts";
import { names, rejected, signedWith } from "../fleet/helpers.ts";

const TOKEN = "cancel-token";
const HOSTS = ["web1", "web2", "web3"];
/** Long enough that only a cancel ends the provider within the test. */
const HANG_TIMEOUT_MS = 60_000;
const CONFIG = {
  bot: { providers: { exec: { risk: "change" } } },
  roles: {
    ops: {
      grants: [
        { command: "fleet", args: { provider: ["exec", "ping"] } },
        { command: "job" },
        { command: "jobs" },
      ],
    },
    stopper: { grants: [{ command: "cancel" }, { command: "job" }] },
    viewer: { grants: [{ command: "job" }] },
  },
  principals: [
    {
      id: "olga",
      roles: ["ops"],
      http: { tokenSha256: createHash("sha256").update(TOKEN).digest("hex") },
    },
  ],
};
const olga = who("olga", ["ops"]);
const otto = who("otto", ["ops"]);
const sam = who("sam", ["stopper"]);
const vic = who("vic", ["viewer"]);

const resultOf = (events: BotEvent[]) => {
  const r = events.find((e) => e.type === "result");
  if (r?.type !== "result") throw new Error(JSON.stringify(events));
  return r;
};
const fleetOf = (events: BotEvent[]) => {
  const r = resultOf(events).result;
  if (r.kind !== "fleet") throw new Error(JSON.stringify(r));
  return r.fleet;
};
const errorOf = (events: BotEvent[]) => events.find((e) => e.type === "error");
const pidOf = (pidFile: string) => Number(readFileSync(pidFile, "utf8").trim());

describe("cancel (real agents, real processes, real Redis)", () => {
  let fleet: TestFleet;
  let redis: Redis;
  let http: TestHttp;
  const hangs = new Map(HOSTS.map((h) => [h, hangingScript(h === "web3")]));

  /** Starts `text` as `principal` and returns its job id once every host's process runs. */
  const startHanging = async (text: string, running: readonly string[] = HOSTS) => {
    for (const { pidFile } of hangs.values()) rmSync(pidFile, { force: true });
    const events: BotEvent[] = [];
    const done = http.bot.bot.handle({ principal: olga, transport: "irc", text }, (e) =>
      events.push(e),
    );
    await waitFor("hosts running", () =>
      running.every((h) => existsSync(hangs.get(h)?.pidFile ?? "")),
    );
    const accepted = events.find((e) => e.type === "accepted");
    assert.ok(accepted?.type === "accepted");
    return { jobId: accepted.jobId, events, done };
  };

  before(async () => {
    fleet = await startFleet([]);
    for (const hostname of HOSTS) {
      const hang = hangs.get(hostname)?.path ?? "";
      await fleet.addAgent({
        hostname,
        facts: { role: "web" },
        options: {
          authorization: { rules: [{ principals: ["ops"], providers: ["exec"] }] },
          actions: {
            killGraceMs: 300,
            exec: { commands: { hang: { argv: [hang], timeoutMs: HANG_TIMEOUT_MS } } },
          },
        },
      });
    }
    redis = new Redis(fleet.redis.url);
    http = await startTestHttp(CONFIG, redis, fleet.controller());
  });
  after(async () => {
    await http.close();
    redis.disconnect();
    await fleet.stop();
  });

  test("the requester cancels: every process group dies, hosts end cancelled, both audited", async () => {
    const started = Date.now();
    const job = await startHanging("fleet exec hang");
    const pids = HOSTS.map((h) => pidOf(hangs.get(h)?.pidFile ?? ""));
    const answer = await http.bot.run(olga, `cancel ${job.jobId}`);
    const line = resultOf(answer).result;
    assert.ok(line.kind === "text");
    assert.match(
      line.lines[0] ?? "",
      new RegExp(`job ${job.jobId} .* cancelled by olga: 3 cancelled`),
    );
    await job.done;
    assert.ok(Date.now() - started < HANG_TIMEOUT_MS / 4, "the cancel, not the timeout, ended it");
    const result = fleetOf(job.events);
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status, h.exit]),
      HOSTS.map((h) => [h, "cancelled", 130]),
    );
    assert.equal(result.summary.cancelled, 3);
    assert.match(result.hosts[0]?.short ?? "", /cancelled by olga/);
    // web3's script ignores SIGTERM: the process group got SIGKILL after the grace.
    for (const pid of pids) await waitFor(`child ${pid} gone`, () => processGone(pid));
    const record = await http.bot.jobs.get(job.jobId);
    assert.equal(record?.state, "cancelled");
    assert.equal(record?.cancelledBy, "olga");
    const audit = readFileSync(http.bot.auditFile, "utf8");
    assert.match(audit, new RegExp(`"principal":"olga".*"text":"cancel ${job.jobId}"`));
    for (const h of HOSTS) {
      const stopped = fleet.agents
        .get(h)
        ?.metrics.counter("commodore_fleet_agent_cancels_total", "");
      assert.equal(stopped?.get({ outcome: "stopped" }), 1, h);
    }
  });

  test("others need a cancel grant; a job that ended cannot be cancelled", async () => {
    const job = await startHanging("fleet exec hang");
    for (const stranger of [otto, vic]) {
      const refused = errorOf(await http.bot.run(stranger, `cancel ${job.jobId}`));
      assert.equal(refused?.type === "error" && refused.code, "E_PERMISSION_DENIED");
      assert.match(refused?.type === "error" ? refused.message : "", /olga started it/);
    }
    assert.equal((await http.bot.jobs.get(job.jobId))?.state, "running");
    const answer = await http.bot.run(sam, `cancel ${job.jobId}`);
    assert.ok(resultOf(answer).ok);
    await job.done;
    assert.equal((await http.bot.jobs.get(job.jobId))?.cancelledBy, "sam");
    const again = errorOf(await http.bot.run(olga, `cancel ${job.jobId}`));
    assert.equal(again?.type === "error" && again.code, "E_JOB_FINISHED");
    const unknown = errorOf(await http.bot.run(olga, "cancel j000000000000"));
    assert.equal(unknown?.type === "error" && unknown.code, "E_NOT_FOUND");
    const bad = errorOf(await http.bot.run(olga, "cancel ../etc"));
    assert.equal(bad?.type === "error" && bad.code, "E_BAD_ARGUMENT");
  });

  test("a batched rollout starts no new host after the cancel", async () => {
    const job = await startHanging("fleet exec hang --batch 1", ["web1"]);
    await http.bot.run(olga, `cancel ${job.jobId}`);
    await job.done;
    const result = fleetOf(job.events);
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      HOSTS.map((h) => [h, "cancelled"]),
    );
    assert.match(result.hosts[1]?.short ?? "", /before it started/);
    assert.equal(result.summary.skipped, undefined);
    assert.equal(existsSync(hangs.get("web2")?.pidFile ?? ""), false, "web2 never ran");
    assert.equal(existsSync(hangs.get("web3")?.pidFile ?? ""), false, "web3 never ran");
  });

  test("DELETE /jobs/:id and POST /jobs/:id/cancel cancel over HTTP", async () => {
    for (const path of ["DELETE", "POST"]) {
      const res = await http.call("POST", "/fleet", {
        token: TOKEN,
        body: { args: ["exec", "hang"] },
        headers: { prefer: "respond-async" },
      });
      assert.equal(res.status, 202, res.text);
      const location = res.headers.get("location") ?? "";
      await waitFor("hosts acked", async () => {
        const job = await http.call("GET", location, { token: TOKEN });
        const events = (job.json["events"] as unknown[] | undefined) ?? [];
        return events.filter((e) => JSON.stringify(e).includes('"ack"')).length === HOSTS.length;
      });
      const cancelled =
        path === "DELETE"
          ? await http.call("DELETE", location, { token: TOKEN })
          : await http.call("POST", `${location}/cancel`, { token: TOKEN, body: {} });
      assert.equal(cancelled.status, 200, cancelled.text);
      assert.match(cancelled.text, /cancelled by olga: 3 cancelled/);
      const gone = await http.call("DELETE", location, { token: TOKEN });
      assert.equal(gone.status, 409, gone.text);
    }
    const anonymous = await http.call("DELETE", "/jobs/j000000000000");
    assert.equal(anonymous.status, 401);
  });

  test("Ctrl-C on the CLI cancels: agents stop their providers before the CLI exits", async () => {
    // The CLI believes the enrollment records the bot's controller (same key) signs.
    await http.bot.run(olga, "fleet ping");
    for (const { pidFile } of hangs.values()) rmSync(pidFile, { force: true });
    const { child, out, exited } = spawnCommodore(
      [
        "fleet",
        "exec",
        "hang",
        "--redis",
        fleet.redis.url,
        "--key",
        fleet.controllerKey.privatePath,
        "--principal",
        "ops",
      ],
      { PATH: process.env["PATH"], USER: "carol" },
    );
    await waitFor("hosts running", () =>
      HOSTS.every((h) => existsSync(hangs.get(h)?.pidFile ?? "")),
    );
    const pids = HOSTS.map((h) => pidOf(hangs.get(h)?.pidFile ?? ""));
    child.kill("SIGINT");
    const code = await exited;
    assert.equal(code, 1, out.stdout);
    assert.match(out.stdout, /3 cancelled/, out.stdout + out.stderr);
    assert.match(out.stdout, /cancelled by carol/);
    for (const pid of pids) await waitFor(`child ${pid} gone`, () => processGone(pid));
  });

  test("agents refuse a cancel from another signer, and unsigned cancels on Redis", async () => {
    const controller = fleet.controller();
    const voice = trustSigner(fleet.allowedSignersPath, "voice");
    for (const h of HOSTS) await fleet.agents.get(h)?.agent.reloadAllowedSigners();
    const abort = new AbortController();
    const events: unknown[] = [];
    const run = controller.execute(
      { provider: "exec", args: ["hang"], where: {}, execTimeoutMs: 3_000 },
      {
        jobId: "attack",
        principalId: "olga",
        signal: abort.signal,
        progress: (e) => {
          events.push(e);
        },
      },
    );
    await waitFor(
      "acks",
      () => events.filter((e) => JSON.stringify(e).includes('"ack"')).length === 3,
    );
    const published = events.find((e) => JSON.stringify(e).includes('"published"')) as {
      requestId: string;
    };
    const now = Date.now();
    const cancel: CancelMessage = {
      protocol: PROTOCOL_VERSION,
      type: "cancel",
      id: randomUUID(),
      cancels: published.requestId,
      issued_at: now,
      expires_at: now + 60_000,
      sender: "voice",
    };
    await redis.publish(names.requests, signedWith(voice.privatePath, REQUEST_NAMESPACE, cancel));
    await redis.publish(
      names.requests,
      JSON.stringify({ payload: JSON.stringify({ ...cancel, sender: "ops" }), sig: "AAAA" }),
    );
    const web1 = fleet.agents.get("web1")?.metrics ?? new MetricsRegistry();
    await waitFor("foreign cancel refused", () => rejected(web1, "agent", "foreign_cancel") === 1);
    await waitFor(
      "unsigned cancel refused",
      () =>
        rejected(web1, "agent", "malformed_signature") + rejected(web1, "agent", "bad_signature") >=
        1,
    );
    // Nothing stopped: the providers ran on until their 3 s timeout (exit 124), not cancelled.
    const result = await run;
    assert.deepEqual(
      result.hosts.map((h) => [h.status, h.exit]),
      HOSTS.map(() => ["failed", 124]),
    );
  });

  test("a job no bot runs any more (restarted mid-run) is reported as not ended, not as cancelled", async () => {
    const sealer = testSealer({ metrics: new MetricsRegistry() });
    const store = new RedisJobStore({ redis, prefix: "orphans:", ttlSeconds: 60, sealer });
    const canceller = new JobCanceller({ prefix: "orphans:", sealer, logger: silentLogger });
    await store.create({
      id: "j00000000beef",
      text: "fleet exec hang",
      command: "fleet",
      principal: "olga",
      transport: "irc",
      state: "running",
      createdAt: new Date().toISOString(),
    });
    const spec = cancelCommand(store, canceller, new Policy({ roles: {}, defaultRoles: [] }), {
      waitMs: 300,
      pollMs: 50,
    });
    const command = parseCommand("cancel j00000000beef", new CommandRegistry().register(spec));
    const outcome = await spec.run?.({
      invocation: { principal: olga, transport: "irc", text: "cancel j00000000beef" },
      principal: olga,
      command,
      jobId: "j0000000cafe0",
      sink: () => undefined,
      signal: new AbortController().signal,
    });
    assert.ok(outcome?.result.kind === "text");
    assert.match(outcome.result.lines[0] ?? "", /has not ended yet/);
    assert.equal((await store.get("j00000000beef"))?.state, "running");
  });

  test("replicas: a sealed broadcast cancels a job another replica runs; forgeries do not", async () => {
    const bus = createBus(redis);
    const sealer = testSealer({ metrics: new MetricsRegistry() });
    const prefix = "replicas:";
    const a = new JobCanceller({ prefix, sealer, logger: silentLogger, bus });
    const b = new JobCanceller({ prefix, sealer, logger: silentLogger, bus });
    await a.start();
    const shutdown = new AbortController();
    const running = a.track("j0123456789ab", shutdown.signal);
    const channel = jobCancelChannel(prefix);
    // A Redis writer: an unsealed message, and a sealed one from long ago (replay).
    await redis.publish(
      channel,
      JSON.stringify({ jobId: "j0123456789ab", by: "mallory", at: Date.now() }),
    );
    const old = sealer.seal(JOB_CANCEL_KIND, channel, {
      jobId: "j0123456789ab",
      by: "mallory",
      at: Date.now() - 3_600_000,
    });
    await redis.publish(channel, old);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(running.signal.aborted, false);
    assert.equal(await b.cancel("j0123456789ab", "sam"), false, "not running on b");
    await waitFor("aborted on a", () => running.signal.aborted);
    assert.ok(running.signal.reason instanceof CancelRequest);
    assert.equal((running.signal.reason as CancelRequest).by, "sam");
    running.release();
    await a.stop();
    await bus.close();
  });
});
