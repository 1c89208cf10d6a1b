/**
 * Blast-radius approval, per grant: a command a grant authorizes that touches more hosts than
 * its `approval.hostsOver`, or a host matching its `approval.where`, waits for a second
 * person; the requester can never approve it; both names are in the audit line; a grant of
 * the caller's without a rule still entitles them outright. Real Redis for confirmations.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import type { AuditEntry } from "../../bot/audit/log.ts";
import type { BotEvent } from "../../bot/contract.ts";
import { configSchema } from "../../config/schema.ts";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { testBot, who, type TestBot } from "../harness/bot.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";

const NODES = ["www1", "www2", "www3", "stg1"].map((hostname) => ({
  hostname,
  facts: {
    role: hostname.startsWith("www") ? "web" : "app",
    env: hostname.startsWith("stg") ? "staging" : "prod",
  },
}));
const CONFIG = {
  roles: {
    // Restarts are a change; wide ones and production ones need a second person.
    operator: {
      grants: [
        { command: "fleet", args: { provider: "restart" }, approval: { hostsOver: 2 } },
        { command: "fleet", args: { provider: "uptime" }, approval: { where: { env: "prod" } } },
      ],
    },
    lead: { grants: [{ command: "fleet", args: { provider: "restart" } }] },
  },
  bot: { dangerousHostThreshold: 100, providers: { restart: { risk: "change" } } },
};
const alice = who("alice", ["operator"]);
const bob = who("bob", ["operator"]);
const lena = who("lena", ["lead", "operator"]);

function first<T extends BotEvent["type"]>(events: BotEvent[], type: T) {
  return events.find((e): e is Extract<BotEvent, { type: T }> => e.type === type);
}

describe("blast-radius approval per grant (real Redis)", () => {
  let server: TestRedis;
  let redis: Redis;
  const double = fleetDouble(NODES);
  let bot: TestBot;
  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-approval", logger: silentLogger });
    await waitReady(redis, server.url);
    bot = testBot(CONFIG, redis, double.fleet);
  });
  after(async () => {
    await bot.close();
    await closeRedis(redis);
    await server.stop();
  });

  test("more hosts than hostsOver: parked for another person; the requester cannot approve", async () => {
    const asked = await bot.run(alice, "fleet restart where role=web");
    const confirm = first(asked, "confirm");
    assert.ok(confirm, JSON.stringify(asked));
    assert.equal(confirm.needsOtherPerson, true);
    assert.match(confirm.summary, /touches 3 hosts \(more than 2\)/);
    assert.equal(first(asked, "result"), undefined, "nothing ran");
    const self = await bot.run(alice, `confirm ${confirm.code}`);
    assert.equal(first(self, "error")?.code, "E_CONFIRM_SAME_PERSON");
    const approved = await bot.run(bob, `confirm ${confirm.code}`);
    assert.equal(first(approved, "result")?.ok, true, JSON.stringify(approved));
    const audit = readFileSync(bot.auditFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEntry);
    const line = audit.find((a) => a.principal === "bob" && a.command === "fleet");
    assert.equal(line?.requestedBy, "alice", "both names are in the audit line");
    assert.equal(line?.outcome, "ok");
  });

  test("within the limit, or through a grant without a rule, it runs at once", async () => {
    const small = await bot.run(alice, "fleet restart where hostname=www[12]");
    assert.equal(first(small, "confirm"), undefined);
    assert.equal(first(small, "result")?.ok, true);
    const lead = await bot.run(lena, "fleet restart where role=web");
    assert.equal(first(lead, "confirm"), undefined, "lena's lead grant has no approval rule");
    assert.equal(first(lead, "result")?.ok, true);
  });

  test("where: a target with matching facts needs approval, others do not", async () => {
    const prod = await bot.run(alice, "fleet uptime where hostname=www1");
    const confirm = first(prod, "confirm");
    assert.match(confirm?.summary ?? "", /touches env=prod hosts \(www1\)/);
    assert.equal(confirm?.needsOtherPerson, true);
    const staging = await bot.run(alice, "fleet uptime where env=staging");
    assert.equal(first(staging, "confirm"), undefined);
    assert.equal(first(staging, "result")?.ok, true);
  });

  test("an approval rule needs hostsOver or where", () => {
    const parsed = configSchema.safeParse({
      roles: { x: { grants: [{ command: "fleet", approval: {} }] } },
    });
    assert.equal(parsed.success, false);
    assert.match(JSON.stringify(parsed.error?.issues), /hostsOver, where or both/);
  });
});
