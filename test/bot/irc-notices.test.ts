import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { noticeRelay, type NoticeSink } from "../../app/irc-notices.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { createBus, type PubSubBus } from "../../lib/redis/bus.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";

const TOPIC = "commodore:irc:notices";
const DROPPED = "commodore_provision_notices_dropped_total";

/** One bot replica: its own Redis connection, bus, relay and (maybe) IRC transport. */
async function replica(url: string, name: string, sent: string[]) {
  const redis = connectRedis({ url, name, logger: silentLogger });
  await waitReady(redis, url);
  const bus: PubSubBus = createBus(redis);
  const metrics = new MetricsRegistry();
  const state: { transport: NoticeSink | undefined } = { transport: undefined };
  const relay = noticeRelay({
    bus,
    topic: TOPIC,
    channels: ["#ops", "#prov"],
    current: () => state.transport,
    logger: silentLogger,
    metrics,
  });
  await relay.start();
  return {
    redis,
    relay,
    metrics,
    lead: () => {
      state.transport = { notice: (channel, line) => sent.push(`${name} ${channel} ${line}`) };
    },
    follow: () => {
      state.transport = undefined;
    },
    async close() {
      await relay.stop();
      await bus.close();
      await closeRedis(redis);
    },
  };
}

describe("provisioning notices relayed to the IRC lease holder over real Redis", () => {
  let server: TestRedis;
  const sent: string[] = [];
  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;

  before(async () => {
    server = await startRedis();
    a = await replica(server.url, "a", sent);
    b = await replica(server.url, "b", sent);
  });
  after(async () => {
    await a.close();
    await b.close();
    await server.stop();
  });

  test("a notice from any replica is sent once, by the replica holding the lease", async () => {
    a.lead();
    b.relay.notifier.notice("from b");
    a.relay.notifier.notice("from a");
    await waitFor("both notices", () => sent.length === 4);
    assert.deepEqual(sent.sort(), [
      "a #ops from a",
      "a #ops from b",
      "a #prov from a",
      "a #prov from b",
    ]);

    sent.length = 0;
    a.follow();
    b.lead(); // the lease moved to b
    a.relay.notifier.notice("after takeover");
    await waitFor("the notice after takeover", () => sent.length === 2);
    assert.deepEqual(sent, ["b #ops after takeover", "b #prov after takeover"]);
  });

  test("garbage on the notice channel is dropped and counted, and relaying goes on", async () => {
    sent.length = 0;
    await a.redis.publish(TOPIC, "\u0000not json");
    await a.redis.publish(TOPIC, JSON.stringify({ line: 42 }));
    await a.redis.publish(TOPIC, JSON.stringify({ line: "x".repeat(5_000) }));
    a.relay.notifier.notice("still fine");
    await waitFor("the good notice", () => sent.length === 2);
    assert.deepEqual(sent, ["b #ops still fine", "b #prov still fine"]);
    assert.equal(b.metrics.counter(DROPPED, "").get({ reason: "malformed" }), 3);
    assert.equal(a.metrics.counter(DROPPED, "").get({ reason: "malformed" }), 3);
  });
});
