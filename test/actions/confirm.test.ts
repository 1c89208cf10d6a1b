import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { after, before, describe, test } from "node:test";
import type { BotEvent } from "../../bot/contract.ts";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { testBot, who, type TestBot } from "../harness/bot.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";

const NODES = ["a1", "a2", "a3", "a4", "a5"].map((hostname) => ({
  hostname,
  facts: { role: "web", env: "staging" },
}));
const root = who("root", ["admin"]);

describe("risk and confirmation of fleet actions (real Redis)", () => {
  let server: TestRedis;
  let redis: Redis;
  let bot: TestBot;
  const double = fleetDouble(NODES);

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-actions-bot", logger: silentLogger });
    await waitReady(redis, server.url);
    bot = testBot(
      { roles: { admin: { grants: [{ command: "*" }] } }, bot: { dangerousHostThreshold: 3 } },
      redis,
      double.fleet,
    );
  });
  after(async () => {
    await bot.close();
    await closeRedis(redis);
    await server.stop();
  });

  const of = (events: BotEvent[], type: BotEvent["type"]) => events.filter((e) => e.type === type);

  test("targets are counted after --limit; a confirmed command keeps its filters and options", async () => {
    const small = await bot.run(root, "fleet service nginx restart --limit 3");
    assert.equal(of(small, "confirm").length, 0);
    assert.equal(of(small, "result").length, 1);

    const big = await bot.run(
      root,
      "fleet service nginx restart --batch 2 --limit 4 where role=web env!=prod",
    );
    const [confirm] = of(big, "confirm");
    assert.ok(confirm && confirm.type === "confirm");
    assert.match(confirm.summary, /on 4 hosts/);
    const ran = await bot.run(root, `confirm ${confirm.code}`);
    assert.equal(of(ran, "result").length, 1);
    const req = double.requests.at(-1);
    assert.deepEqual(req?.args, ["nginx", "restart"]);
    assert.deepEqual(req?.filters, [{ fact: "env", op: "!=", value: "prod" }]);
    assert.deepEqual(req?.limit, { count: 4 });
    assert.deepEqual(req?.batch, { size: { count: 2 } });
  });

  test("service status is read and runs without confirmation below the threshold", async () => {
    const events = await bot.run(root, "fleet service nginx status --hosts a1,a2");
    assert.equal(of(events, "confirm").length, 0);
    assert.deepEqual(double.requests.at(-1)?.identities, ["a1", "a2"]);
  });
});
