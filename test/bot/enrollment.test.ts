/**
 * `nodes pending|accept|reject|revoke` through the bot, with a real fleet executor and real
 * agents: who may accept keys, what is audited, and what a stranger's agent gets.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { BotEvent } from "../../bot/contract.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { testBot, who, type TestBot } from "../harness/bot.ts";

const CONFIG = {
  roles: {
    reader: { grants: [{ command: "nodes" }, { command: "fleet" }] },
    enroller: {
      grants: [
        { command: "nodes" },
        { command: "nodes", args: { action: ["accept", "reject", "revoke"] } },
      ],
    },
  },
  bot: { defaultRoles: ["reader"] },
};

function result(events: BotEvent[]) {
  const r = events.find((e) => e.type === "result");
  if (r?.type !== "result") throw new Error(`no result: ${JSON.stringify(events)}`);
  return r;
}

function error(events: BotEvent[]) {
  const e = events.find((x) => x.type === "error");
  if (e?.type !== "error") throw new Error(`no error: ${JSON.stringify(events)}`);
  return e;
}

describe("enrollment through the bot (real agents, real Redis)", () => {
  let fleet: TestFleet;
  let redis: Redis;
  let bot: TestBot;
  before(async () => {
    fleet = await startFleet([
      { hostname: "www01", facts: { role: "web" } },
      { hostname: "evil01", facts: { role: "web" } },
    ]);
    redis = new Redis(fleet.redis.url);
    bot = testBot(CONFIG, redis, fleet.controller({ enrollment: "manual", ackTimeoutMs: 400 }));
  });
  after(async () => {
    await bot.close();
    redis.disconnect();
    await fleet.stop();
  });

  test("nodes pending lists both with fingerprints; a fleet command targets neither", async () => {
    const pending = result(await bot.run(who("anyone"), "nodes pending"));
    assert.equal(pending.result.kind, "nodes");
    if (pending.result.kind !== "nodes") return;
    assert.deepEqual(
      pending.result.nodes.map((n) => [n.hostname, n.state, n.fingerprint]),
      ["evil01", "www01"].map((h) => [h, "pending", fleet.agents.get(h)?.key.fingerprint]),
    );
    // Pending hosts are no match: refused before anything is sent, never "0/0 ok".
    const ping = error(await bot.run(who("anyone"), "fleet ping where role=web"));
    assert.equal(ping.code, "E_NO_MATCH");
    assert.match(ping.message, /no accepted host matches role=web/);
  });

  test("accepting a key is a change: default roles cannot, a granted role can, and it is audited", async () => {
    const denied = error(await bot.run(who("anyone"), "nodes accept www01"));
    assert.equal(denied.code, "E_PERMISSION_DENIED");
    const wrong = error(
      await bot.run(who("alice", ["enroller"]), "nodes accept www01 SHA256:nope"),
    );
    assert.equal(wrong.code, "E_NODE_FINGERPRINT");
    const fp = fleet.agents.get("www01")?.key.fingerprint ?? "";
    const ok = result(await bot.run(who("alice", ["enroller"]), `nodes accept www01 ${fp}`));
    assert.equal(ok.ok, true);
    assert.ok(ok.result.kind === "data" && ok.result.lines[0]?.includes("pending -> accepted"));
    const audit = readFileSync(bot.auditFile, "utf8");
    assert.match(audit, /alice.*nodes accept www01/);
    const ping = result(await bot.run(who("anyone"), "fleet ping where role=web"));
    assert.ok(ping.result.kind === "fleet");
    if (ping.result.kind !== "fleet") return;
    assert.deepEqual(
      ping.result.fleet.hosts.map((h) => [h.hostname, h.status]),
      [["www01", "ok"]],
    );
    const record = JSON.parse((await redis.hget("{commodore}:pins", "www01")) ?? "{}") as {
      payload: string;
    };
    assert.equal((JSON.parse(record.payload) as { by: string }).by, "alice");
  });

  test("bulk acceptance needs a filter; reject and revoke work by name; nodes lists accepted only", async () => {
    const enroller = who("alice", ["enroller"]);
    const noFilter = error(await bot.run(enroller, "nodes accept --all-matching"));
    assert.equal(noFilter.code, "E_BAD_ARGUMENT");
    const rejected = result(await bot.run(enroller, "nodes reject evil01"));
    assert.ok(rejected.result.kind === "data" && rejected.result.lines[0]?.includes("-> rejected"));
    const bulk = result(await bot.run(enroller, "nodes accept --all-matching where role=web"));
    assert.ok(bulk.result.kind === "data" && bulk.result.title === "0 host keys accepted");
    const list = result(await bot.run(who("anyone"), "nodes"));
    assert.ok(list.result.kind === "nodes");
    if (list.result.kind !== "nodes") return;
    assert.deepEqual(
      list.result.nodes.map((n) => n.hostname),
      ["www01"],
    );
    const revoked = result(await bot.run(enroller, "nodes revoke www01"));
    assert.ok(
      revoked.result.kind === "data" && revoked.result.lines[0]?.includes("accepted -> rejected"),
    );
    const missing = error(await bot.run(enroller, "nodes revoke www01"));
    assert.equal(missing.code, "E_NODE_STATE");
  });
});
