import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { testBot, type TestBot } from "../harness/bot.ts";

describe("Bot.assessRisk", () => {
  let server: TestRedis;
  let redis: Redis;
  let bot: TestBot;

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-risk", logger: silentLogger });
    await waitReady(redis, server.url);
    bot = testBot(
      { bot: { providers: { restart: { risk: "change" }, reboot: { risk: "dangerous" } } } },
      redis,
    );
  });
  after(async () => {
    await bot.close();
    await closeRedis(redis);
    await server.stop(true);
  });

  test("classifies text with the registry's parser and the provider risk table", () => {
    const risk = (text: string) => bot.bot.assessRisk(text);
    assert.equal(risk("fleet uptime where role=web"), "read");
    assert.equal(risk("f ping"), "read", "aliases parse like everywhere else");
    assert.equal(risk("fleet restart nginx where role=web"), "change");
    assert.equal(risk("fleet reboot"), "dangerous");
    assert.equal(risk("help fleet"), "read");
    assert.equal(risk("fleet frobnicate"), undefined, "unknown provider");
    assert.equal(risk("fleet uptime where role"), undefined, "bad where term");
    assert.equal(risk("launch missiles"), undefined, "unknown command");
  });
});
