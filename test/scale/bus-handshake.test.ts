import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { createBus, type PubSubBus } from "../../lib/redis/bus.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";

/** How long a published message gets to arrive before the test looks. */
const DELIVERY_WAIT_MS = 100;

/**
 * A lazily connecting subscriber, so the test can act at the moment its TCP connection is up
 * (before ioredis's INFO ready check). `how` subscribes through `client`; `errors` and `got`
 * collect what the connection reported and received.
 */
async function subscribeDuringHandshake(
  url: string,
  how: (client: Redis, got: string[]) => Promise<void>,
): Promise<{ errors: string[]; got: string[] }> {
  const client = new Redis(url, { connectionName: "handshake-test", lazyConnect: true });
  const errors: string[] = [];
  const got: string[] = [];
  client.on("error", (err: Error) => errors.push(err.message));
  const subscribed = new Promise<void>((resolve, reject) =>
    client.once("connect", () => how(client, got).then(resolve, reject)),
  );
  await client.connect().catch(() => undefined);
  await subscribed;
  const pub = new Redis(url);
  await pub.publish("chan", "hello");
  await new Promise((r) => setTimeout(r, DELIVERY_WAIT_MS));
  pub.disconnect();
  client.disconnect();
  return { errors, got };
}

/** A bus whose subscriber connection is `sub` (the command client hands it out as its duplicate). */
function busOver(url: string, sub: Redis): { bus: PubSubBus; command: Redis } {
  const command = new Redis(url, { lazyConnect: true });
  return { bus: createBus(Object.assign(command, { duplicate: () => sub })), command };
}

describe("subscribing while ioredis is still handshaking (real Redis)", () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop(true));

  test("a bare SUBSCRIBE during the handshake breaks the ready check (the race the bus closes)", async () => {
    const { errors } = await subscribeDuringHandshake(redis.url, async (c, got) => {
      c.on("message", (_channel: string, message: string) => got.push(message));
      await c.subscribe("chan");
    });
    assert.ok(
      errors.some((e) => e.includes("subscriber mode")),
      `expected the subscriber-mode error, got ${JSON.stringify(errors)}`,
    );
  });

  test("the bus waits for the ready check, so no error and the message arrives", async () => {
    let bus: PubSubBus | undefined;
    let command: Redis | undefined;
    const { errors, got } = await subscribeDuringHandshake(redis.url, async (c, got) => {
      ({ bus, command } = busOver(redis.url, c));
      await bus.subscribe("chan", (message) => got.push(message));
    });
    command?.disconnect();
    await bus?.close();
    assert.deepEqual(errors, []);
    assert.deepEqual(got, ["hello"]);
  });
});
