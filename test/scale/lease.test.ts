import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { RedisLease, leaseKeys } from "../../lib/redis/lease.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";

const TTL_MS = 1_000;
const RENEW_MS = 200;

describe("Redis lease with fencing", () => {
  let server: TestRedis;
  const conns: Redis[] = [];
  const keys = leaseKeys("test", "unit");

  const contender = async (log: string[], name: string) => {
    const redis = connectRedis({ url: server.url, name, logger: silentLogger });
    await waitReady(redis, server.url);
    conns.push(redis);
    const lease = new RedisLease({
      redis,
      keys,
      ttlMs: TTL_MS,
      renewMs: RENEW_MS,
      logger: silentLogger,
      onAcquired: (fence) => log.push(`${name} acquired ${fence}`),
      onLost: (why) => log.push(`${name} lost: ${why}`),
    });
    return { redis, lease };
  };

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    for (const c of conns) await closeRedis(c);
    await server.stop(true);
  });

  test("one holder at a time, larger fence on takeover, lost when it cannot renew", async () => {
    const log: string[] = [];
    const a = await contender(log, "a");
    const b = await contender(log, "b");
    a.lease.start();
    await waitFor("a holding", () => a.lease.held);
    b.lease.start();
    // b keeps trying for several renew periods without getting it.
    await new Promise((r) => setTimeout(r, RENEW_MS * 4));
    assert.equal(b.lease.held, false);
    assert.deepEqual(log, ["a acquired 1"]);
    // a's Redis connection dies: it must give up by itself before b can take over.
    a.redis.disconnect(false);
    await waitFor("b holding", () => b.lease.held, TTL_MS * 5);
    assert.equal(a.lease.held, false);
    assert.deepEqual(log, ["a acquired 1", "a lost: not renewed in time", "b acquired 2"]);
    assert.equal(b.lease.fence, 2);
    await b.lease.stop();
    assert.deepEqual(log.at(-1), "b lost: released");
    assert.equal(await b.redis.exists(keys.holder), 0);
    await a.lease.stop();
  });
});
