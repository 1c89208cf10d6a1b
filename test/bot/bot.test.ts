import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import type { BotEvent } from "../../bot/contract.ts";
import type { AuditEntry } from "../../bot/audit/log.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { testBot, who, type TestBot } from "../harness/bot.ts";

const NODES = ["www1", "www2", "db1", "stg1", "stg2"].map((hostname) => ({
  hostname,
  facts: {
    role: hostname.startsWith("www") ? "web" : hostname.startsWith("db") ? "db" : "app",
    env: hostname.startsWith("stg") ? "staging" : "prod",
  },
}));
const ROLES = {
  viewer: {
    grants: [
      { command: "fleet", args: { provider: ["ping", "uptime", "facts"] } },
      { command: "jobs" },
      { command: "job" },
      { command: "nodes" },
    ],
  },
  stager: {
    grants: [{ command: "fleet", args: { provider: "restart" }, where: { env: "staging" } }],
  },
  admin: { grants: [{ command: "*" }] },
};
const CONFIG = {
  roles: ROLES,
  bot: {
    dangerousHostThreshold: 3,
    providers: { restart: { risk: "change" }, wipe: { risk: "dangerous" } },
  },
};
const alice = who("alice", ["viewer"]);
const sam = who("sam", ["stager"]);
const root = who("root", ["admin"]);
const rita = who("rita", ["admin"]);
const nobody = who("nobody");

function ofType<T extends BotEvent["type"]>(
  events: BotEvent[],
  type: T,
): Extract<BotEvent, { type: T }>[] {
  return events.filter((e): e is Extract<BotEvent, { type: T }> => e.type === type);
}
function auditLines(bot: TestBot): AuditEntry[] {
  return readFileSync(bot.auditFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as AuditEntry);
}

describe("bot with real Redis", () => {
  let server: TestRedis;
  let redis: Redis;
  const double = fleetDouble(NODES);
  let bot: TestBot;

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-bot", logger: silentLogger });
    await waitReady(redis, server.url);
    bot = testBot(CONFIG, redis, double.fleet);
  });
  after(async () => {
    await bot.close();
    await closeRedis(redis);
    await server.stop();
  });

  test("a read command becomes a job with progress, result, and survives a bot restart", async () => {
    const events = await bot.run(alice, "fleet uptime where role=web");
    const [accepted] = ofType(events, "accepted");
    assert.ok(accepted);
    assert.equal(ofType(events, "fleet-progress").length, 3);
    const [result] = ofType(events, "result");
    assert.equal(result?.ok, true);
    assert.equal(result?.result.kind, "fleet");
    assert.deepEqual(double.requests.at(-1), {
      provider: "uptime",
      args: [],
      where: { role: "web" },
    });

    const restarted = testBot(CONFIG, redis, double.fleet);
    const job = await restarted.run(alice, `job ${accepted.jobId}`);
    const [shown] = ofType(job, "result");
    assert.ok(shown?.result.kind === "data");
    const data = shown.result.data as {
      job: { state: string; principal: string };
      events: unknown[];
    };
    assert.equal(data.job.state, "succeeded");
    assert.equal(data.job.principal, "alice");
    assert.equal(data.events.length, 4);
    const list = ofType(await restarted.run(alice, "jobs 5"), "result")[0];
    assert.ok(list?.result.kind === "data");
    assert.match(list.result.lines.join("\n"), new RegExp(accepted.jobId));
    await restarted.close();
  });

  test("refusals are errors with codes, create no job and are audited", async () => {
    const before = auditLines(bot).length;
    const cases: Array<[ReturnType<typeof who>, string, string]> = [
      [alice, "fleet restart nginx", "E_PERMISSION_DENIED"],
      [nobody, "nodes", "E_PERMISSION_DENIED"],
      [alice, "flet uptime", "E_UNKNOWN_COMMAND"],
      [alice, "fleet uptime where", "E_SYNTAX"],
      [alice, "job j000000000000", "E_NOT_FOUND"],
    ];
    for (const [p, text, code] of cases) {
      const events = await bot.run(p, text);
      // Reads that touch no host (`job <id>`) create no job either.
      assert.equal(ofType(events, "accepted").length, 0, text);
      assert.equal(ofType(events, "error")[0]?.code, code, text);
    }
    const lines = auditLines(bot).slice(before);
    assert.equal(lines.length, cases.length);
    assert.deepEqual(
      lines.map((l) => l.outcome),
      ["refused", "refused", "refused", "refused", "refused"],
    );
    assert.equal(lines[0]?.code, "E_PERMISSION_DENIED");
    assert.equal(lines[1]?.principal, "nobody");
  });

  test("pinned targets reach the executor", async () => {
    const events = await bot.run(sam, "fleet restart nginx");
    assert.equal(ofType(events, "result")[0]?.ok, true);
    assert.deepEqual(double.requests.at(-1), {
      provider: "restart",
      args: ["nginx"],
      where: { env: "staging" },
    });
    const denied = await bot.run(sam, "fleet restart nginx where env=prod");
    assert.equal(ofType(denied, "error")[0]?.code, "E_PERMISSION_DENIED");
  });

  test("more hosts than the threshold need confirmation, codes work once", async () => {
    const events = await bot.run(alice, "fleet uptime");
    const [confirm] = ofType(events, "confirm");
    assert.ok(confirm);
    assert.match(confirm.summary, /would run "fleet uptime" on 5 hosts/);
    assert.equal(ofType(events, "accepted").length, 0);
    const ran = await bot.run(alice, `confirm ${confirm.code}`);
    assert.equal(ofType(ran, "result")[0]?.ok, true);
    const again = await bot.run(alice, `confirm ${confirm.code}`);
    assert.equal(ofType(again, "error")[0]?.code, "E_CONFIRM_UNKNOWN");
    const lines = auditLines(bot).slice(-3);
    assert.deepEqual(
      lines.map((l) => l.outcome),
      ["pending_confirmation", "ok", "refused"],
    );
    assert.deepEqual(
      lines[1]?.targets,
      NODES.map((n) => n.hostname),
    );
    assert.equal(lines[1]?.command, "fleet");
  });

  test("the confirmer must be allowed to run the command", async () => {
    const [confirm] = ofType(await bot.run(root, "fleet wipe"), "confirm");
    assert.ok(confirm);
    assert.equal(
      ofType(await bot.run(alice, `confirm ${confirm.code}`), "error")[0]?.code,
      "E_PERMISSION_DENIED",
    );
  });

  test("two-person confirmation and expiry", async () => {
    const strict = testBot(
      { ...CONFIG, bot: { ...CONFIG.bot, confirm: { requireOtherPerson: true, ttlSeconds: 1 } } },
      redis,
      double.fleet,
    );
    const [confirm] = ofType(await strict.run(root, "fleet wipe where role=db"), "confirm");
    assert.ok(confirm?.needsOtherPerson);
    assert.equal(
      ofType(await strict.run(root, `confirm ${confirm.code}`), "error")[0]?.code,
      "E_CONFIRM_SAME_PERSON",
    );
    const ran = await strict.run(rita, `confirm ${confirm.code}`);
    const [accepted] = ofType(ran, "accepted");
    assert.ok(accepted);
    const job = await strict.jobs.get(accepted.jobId);
    assert.equal(job?.principal, "root");
    assert.equal(job?.confirmedBy, "rita");
    assert.equal(auditLines(strict).at(-1)?.requestedBy, "root");

    const [late] = ofType(await strict.run(root, "fleet wipe"), "confirm");
    assert.ok(late);
    await new Promise((r) => setTimeout(r, 2_100));
    assert.equal(
      ofType(await strict.run(rita, `confirm ${late.code}`), "error")[0]?.code,
      "E_CONFIRM_UNKNOWN",
    );
    await strict.close();
  });

  test("help lists only permitted commands; audit shows the latest entries", async () => {
    const [help] = ofType(await bot.run(alice, "help"), "result");
    assert.ok(help?.result.kind === "text");
    const names = help.result.lines.map((l) => l.split(" ")[0]);
    assert.ok(names.includes("fleet") && !names.includes("audit"));
    const [usage] = ofType(await bot.run(alice, "help fleet"), "result");
    assert.ok(usage?.result.kind === "text");
    assert.match(usage.result.lines.join("\n"), /example: fleet uptime where role=web env=prod/);
    assert.equal(ofType(await bot.run(alice, "audit"), "error")[0]?.code, "E_PERMISSION_DENIED");
    const [audit] = ofType(await bot.run(root, "audit 2"), "result");
    assert.ok(audit?.result.kind === "data");
    assert.equal(audit.result.lines.length, 2);
    assert.match(audit.result.lines[0] ?? "", /alice@cli refused E_PERMISSION_DENIED/);
  });
});
