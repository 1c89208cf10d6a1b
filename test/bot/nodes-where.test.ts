/**
 * `nodes where …` through the real bot (real Redis, the fleet double over 1000 nodes, which
 * matches with the fleet's own matcher): filters are honoured, a pattern that would backtrack
 * exponentially in a regex engine answers, and a costly regex is refused by the budget.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import type { AuditEntry } from "../../bot/audit/log.ts";
import type { BotEvent } from "../../bot/contract.ts";
import { DEFAULT_MATCH_BUDGET_STEPS } from "../../executors/fleet/protocol/match-budget.ts";
import type { NodeInfo } from "../../executors/fleet/types.ts";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { testBot, who, type TestBot } from "../harness/bot.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";

const NODES = Array.from({ length: 1_000 }, (_, i) => ({
  hostname: `www${String(i).padStart(4, "0")}`,
  facts: {
    role: i % 2 === 0 ? "web" : "db",
    os: "Debian GNU/Linux 12 (bookworm)",
    cpus: String(1 + (i % 16)),
  },
}));
const CONFIG = { roles: { viewer: { grants: [{ command: "nodes" }, { command: "fleet" }] } } };
const viewer = who("vera", ["viewer"]);

/** The nodes of a `nodes` result, or the error event. */
function outcome(events: BotEvent[]): NodeInfo[] | Extract<BotEvent, { type: "error" }> {
  for (const e of events) {
    if (e.type === "error") return e;
    if (e.type === "result" && e.result.kind === "nodes") return [...e.result.nodes];
  }
  throw new Error(`no result in ${JSON.stringify(events)}`);
}
function nodes(events: BotEvent[]): string[] {
  const out = outcome(events);
  assert.ok(Array.isArray(out), JSON.stringify(out));
  return out.map((n) => n.hostname);
}

describe("nodes where … on 1000 nodes", () => {
  let server: TestRedis;
  let redis: Redis;
  let bot: TestBot;

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-nodes-where", logger: silentLogger });
    await waitReady(redis, server.url);
    bot = testBot(CONFIG, redis, fleetDouble(NODES).fleet);
  });
  after(async () => {
    await bot.close();
    await closeRedis(redis);
    await server.stop();
  });

  test("numeric and negated filters are honoured: cpus>=100000 lists none", async () => {
    assert.deepEqual(nodes(await bot.run(viewer, "nodes where cpus>=100000")), []);
    const big = nodes(await bot.run(viewer, "nodes where cpus>=16 role!=db"));
    const want = NODES.filter((n) => Number(n.facts.cpus) >= 16 && n.facts.role !== "db");
    assert.deepEqual(
      big,
      want.map((n) => n.hostname),
    );
    assert.equal(nodes(await bot.run(viewer, "nodes")).length, 1_000);
  });

  test("os=*?*?*?*?*?*?*?*?*?*?*?*! answers (no match) instead of stalling the bot", async () => {
    assert.deepEqual(nodes(await bot.run(viewer, "nodes where os=*?*?*?*?*?*?*?*?*?*?*?*!")), []);
    assert.equal(
      nodes(await bot.run(viewer, "nodes where os=*?*?*?*?*?*?*?*?*?*?*?*)")).length,
      1_000,
    );
  });

  test("a regex over the budget is refused with E_FILTER_TOO_COSTLY, audited as refused", async () => {
    const text = "nodes where 'os=/(?:(?:.?){100}){19}#/'";
    const error = outcome(await bot.run(viewer, text));
    assert.ok(!Array.isArray(error));
    assert.equal(error.code, "E_FILTER_TOO_COSTLY");
    assert.ok(error.message.includes("os=/(?:(?:.?){100}){19}#/"), error.message);
    assert.ok(error.message.includes(String(DEFAULT_MATCH_BUDGET_STEPS)), error.message);
    assert.match(error.hint ?? "", /simpler pattern/);
    const audit = readFileSync(bot.auditFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEntry);
    const entry = audit.findLast((e) => e.text === text);
    assert.equal(entry?.outcome, "refused");
    assert.equal(entry?.code, "E_FILTER_TOO_COSTLY");
  });

  test("fleet commands compute their targets under the same budget", async () => {
    const events = await bot.run(viewer, "fleet ping where 'os=/(?:(?:.?){100}){19}#/'");
    const error = outcome(events);
    assert.ok(!Array.isArray(error));
    assert.equal(error.code, "E_FILTER_TOO_COSTLY");
  });
});
