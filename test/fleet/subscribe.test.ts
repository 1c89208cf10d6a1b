import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { subscribeWhenReady } from "../../executors/fleet/protocol/subscribe.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";

/** Subscribes the moment the TCP connection is up (before ioredis's ready check) with `how`. */
async function subscribeDuringHandshake(
  url: string,
  how: (client: Redis) => Promise<void>,
): Promise<{ errors: string[]; got: string[] }> {
  const client = new Redis(url, { connectionName: "handshake-test", lazyConnect: true });
  const errors: string[] = [];
  const got: string[] = [];
  client.on("error", (err: Error) => errors.push(err.message));
  client.on("message", (_channel: string, message: string) => got.push(message));
  const subscribed = new Promise<void>((resolve, reject) =>
    client.once("connect", () => how(client).then(resolve, reject)),
  );
  await client.connect().catch(() => undefined);
  await subscribed;
  const pub = new Redis(url);
  await pub.publish("chan", "hello");
  await new Promise((r) => setTimeout(r, 100));
  pub.disconnect();
  client.disconnect();
  return { errors, got };
}

describe("subscribing while ioredis is still handshaking (real Redis)", () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop(true));

  test("a bare SUBSCRIBE during the handshake breaks the ready check (the race being fixed)", async () => {
    const { errors } = await subscribeDuringHandshake(redis.url, async (c) => {
      await c.subscribe("chan");
    });
    assert.ok(
      errors.some((e) => e.includes("subscriber mode")),
      `expected the subscriber-mode error, got ${JSON.stringify(errors)}`,
    );
  });

  test("subscribeWhenReady waits for the ready check, so no error and the message arrives", async () => {
    const { errors, got } = await subscribeDuringHandshake(redis.url, (c) =>
      subscribeWhenReady(c, "chan", redis.url),
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(got, ["hello"]);
  });
});
