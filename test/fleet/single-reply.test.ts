/**
 * Protocol 2: a fast provider is answered by one signed `complete`, a slow one by `start` then
 * `complete`; and both directions of interop with version-1 peers, over real Redis.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { admitRequest } from "../../executors/fleet/agent/admission.ts";
import { sshAgentSecurity, type AgentSecurity } from "../../executors/fleet/agent/security.ts";
import { DEFAULT_START_DELAY_MS, agentOptionsSchema } from "../../executors/fleet/options.ts";
import { loadAllowedSigners } from "../../executors/fleet/protocol/allowed-signers.ts";
import { REQUEST_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import { openEnvelope, sealEnvelope } from "../../executors/fleet/protocol/envelope.ts";
import { loadPrivateKey } from "../../executors/fleet/protocol/keys.ts";
import {
  PROTOCOL_VERSION,
  registrationSchema,
  replySchema,
  type ReplyMessage,
} from "../../executors/fleet/protocol/messages.ts";
import { ReplayCache } from "../../executors/fleet/protocol/replay-cache.ts";
import type { FleetProgress } from "../../executors/fleet/types.ts";
import { sleepProvider, startFleet, type TestFleet } from "../harness/agents.ts";
import { waitFor } from "../harness/ports.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { context, names, requestPayload, signedWith, spy } from "./helpers.ts";

/** Slow enough to outlast the start delay by far. */
const SLOW_MS = 300;
const ADMISSION = { maxTtlMs: 60_000, clockSkewMs: 5_000 };

/** Every message published on any reply channel, by channel. */
async function replyWire(url: string): Promise<{
  replies(channel: string): ReplyMessage[];
  close(): void;
}> {
  const sub = new Redis(url);
  const seen = new Map<string, ReplyMessage[]>();
  sub.on("pmessage", (_pattern: string, channel: string, raw: string) => {
    const opened = openEnvelope(raw, replySchema, [1, 2]);
    if (!opened.ok) throw new Error(`unreadable reply: ${opened.rejection.detail}`);
    seen.set(channel, [...(seen.get(channel) ?? []), opened.opened.message]);
  });
  await sub.psubscribe(names.reply("*"));
  return { replies: (channel) => seen.get(channel) ?? [], close: () => sub.disconnect() };
}

/**
 * A version-1 agent as it behaved before protocol 2: registers without `protocols`, reads
 * requests with the version-1 rules (unknown fields such as `reply_protocols` ignored) and
 * answers every ping with a signed `start`, then a signed `complete`, both protocol 1.
 */
async function startV1Agent(
  fleet: TestFleet,
  hostname: string,
): Promise<{ security: AgentSecurity; stop(): Promise<void> }> {
  const key = makeKey("ed25519", hostname);
  const signers = loadAllowedSigners(fleet.allowedSignersPath);
  const security = sshAgentSecurity(loadPrivateKey(key.privatePath), () => signers);
  const pub = new Redis(fleet.redis.url);
  const sub = new Redis(fleet.redis.url);
  const replay = new ReplayCache();
  const now = Date.now();
  const registration = {
    protocol: 1,
    type: "registration",
    hostname,
    facts: { hostname, role: "legacy" },
    public_key: security.publicKey,
    version: "0.1.0",
    sent_at: now,
    ttl_ms: 60_000,
  };
  await pub
    .multi()
    .set(names.node(hostname), sealEnvelope(registration, security.registrationSigner))
    .zadd(names.nodeIndex, now, hostname)
    .exec();
  sub.on("message", (_channel: string, raw: string) => {
    const admission = admitRequest(raw, security.requestVerifier, replay, ADMISSION, Date.now());
    if (!admission.ok || admission.message.type !== "request") return;
    const req = admission.message;
    const base = { protocol: 1, type: "reply", in_reply_to: req.id, hostname, uuid: randomUUID() };
    const send = (reply: object) =>
      void pub.publish(req.reply_to, sealEnvelope(reply, security.replySigner));
    send({ ...base, status: "start", sent_at: Date.now() });
    send({ ...base, status: "complete", sent_at: Date.now(), output: { exit: 0, short: "pong" } });
  });
  await sub.subscribe(names.requests);
  return {
    security,
    async stop() {
      sub.disconnect();
      await pub.multi().del(names.node(hostname)).zrem(names.nodeIndex, hostname).exec();
      pub.disconnect();
    },
  };
}

describe("protocol 2: one signed reply for fast providers (real Redis)", () => {
  let fleet: TestFleet;
  let wire: Awaited<ReturnType<typeof replyWire>>;
  before(async () => {
    fleet = await startFleet([
      { hostname: "fast1", facts: { role: "web" }, providers: [sleepProvider()] },
      { hostname: "fast2", facts: { role: "web" }, providers: [sleepProvider()] },
      {
        hostname: "eager",
        facts: { role: "eager" },
        options: { startDelayMs: 0 },
      },
    ]);
    wire = await replyWire(fleet.redis.url);
  });
  after(async () => {
    wire.close();
    await fleet.stop();
  });

  test("ping: exactly one signed reply per host, a protocol-2 complete that is also the ack", async () => {
    const c = fleet.controller();
    const events: FleetProgress[] = [];
    const result = await c.execute(
      { provider: "ping", args: [], where: { role: "web" } },
      context(events),
    );
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status, h.short]),
      [
        ["fast1", "ok", "pong"],
        ["fast2", "ok", "pong"],
      ],
    );
    for (const h of result.hosts) assert.equal(typeof h.ackMs, "number");
    assert.equal(result.summary.acked, 2);
    const channel = names.reply(result.requestId);
    // Let any late message arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const replies = wire.replies(channel).filter((r) => r.status !== "noop");
    assert.deepEqual(replies.map((r) => [r.hostname, r.status, r.protocol]).sort(), [
      ["fast1", "complete", 2],
      ["fast2", "complete", 2],
    ]);
    const acks = events.flatMap((e) => (e.kind === "ack" ? [e.hostname] : []));
    assert.deepEqual(acks.sort(), ["fast1", "fast2"]);
  });

  test("a slow provider still sends start at once, then complete; the ack comes first", async () => {
    const c = fleet.controller();
    const events: FleetProgress[] = [];
    const result = await c.execute(
      { provider: "sleep", args: [String(SLOW_MS)], where: { hostname: "fast1" } },
      context(events),
    );
    const [host] = result.hosts;
    assert.equal(host?.status, "ok");
    assert.equal(host?.short, `slept ${SLOW_MS} ms`);
    assert.ok(host?.ackMs !== undefined && host.ackMs < (host.durationMs ?? 0) - SLOW_MS / 2);
    const kinds = events.filter((e) => e.kind === "ack" || e.kind === "host").map((e) => e.kind);
    assert.deepEqual(kinds, ["ack", "host"]);
    const mine = wire.replies(names.reply(result.requestId)).filter((r) => r.hostname === "fast1");
    assert.deepEqual(
      mine.map((r) => [r.status, r.protocol]),
      [
        ["start", 2],
        ["complete", 2],
      ],
    );
    assert.ok(
      (mine[1]?.sent_at ?? 0) - (mine[0]?.sent_at ?? 0) >= SLOW_MS - DEFAULT_START_DELAY_MS,
    );
  });

  test("startDelayMs 0 always acknowledges first; the option's range is validated", async () => {
    const c = fleet.controller();
    const result = await c.execute(
      { provider: "ping", args: [], where: { role: "eager" } },
      context(),
    );
    assert.equal(result.hosts[0]?.status, "ok");
    await waitFor("both replies", () => wire.replies(names.reply(result.requestId)).length >= 4);
    const mine = wire.replies(names.reply(result.requestId)).filter((r) => r.hostname === "eager");
    assert.deepEqual(
      mine.map((r) => r.status),
      ["start", "complete"],
    );
    assert.equal(agentOptionsSchema.safeParse({ startDelayMs: -1 }).success, false);
    assert.equal(agentOptionsSchema.safeParse({ startDelayMs: 501 }).success, false);
    assert.equal(agentOptionsSchema.parse({}).startDelayMs, DEFAULT_START_DELAY_MS);
  });

  test("a v2 agent answers a request without reply_protocols (a v1 controller) with start + complete", async () => {
    for (const extra of [{}, { reply_protocols: [1] }]) {
      const payload = {
        ...requestPayload({ match: { all: false, node_facts: { hostname: "fast2" } } }),
        ...extra,
      };
      const raw = signedWith(fleet.controllerKey.privatePath, REQUEST_NAMESPACE, payload);
      const client = await spy(fleet.redis.url);
      try {
        await client.listen(payload.reply_to);
        await client.client.publish(names.requests, raw);
        await waitFor("start and complete", () =>
          client
            .messages(payload.reply_to)
            .some((m) => m.includes("fast2") && m.includes("complete")),
        );
        const mine = client
          .messages(payload.reply_to)
          .map((m) => openEnvelope(m, replySchema))
          .flatMap((o) => (o.ok ? [o.opened.message] : []))
          .filter((r) => r.hostname === "fast2");
        assert.deepEqual(
          mine.map((r) => [r.status, r.protocol]),
          [
            ["start", 1],
            ["complete", 1],
          ],
          `reply_protocols ${JSON.stringify(extra)}`,
        );
      } finally {
        await client.close();
      }
    }
  });

  test("a v1 controller reads a v2 registration (protocol 1, protocols listed)", async () => {
    const client = new Redis(fleet.redis.url);
    const raw = await client.get(names.node("fast1"));
    client.disconnect();
    assert.ok(raw);
    // The version-1 rule: only protocol 1 is accepted.
    const opened = openEnvelope(raw, registrationSchema, [PROTOCOL_VERSION]);
    assert.ok(opened.ok);
    assert.equal(opened.opened.message.protocol, 1);
    assert.deepEqual(opened.opened.message.protocols, [1, 2]);
  });

  test("a v1 agent (start + complete, no protocols in its registration) works with the v2 controller", async () => {
    const legacy = await startV1Agent(fleet, "legacy1");
    try {
      const c = fleet.controller();
      assert.ok((await c.nodes()).some((n) => n.hostname === "legacy1"));
      const events: FleetProgress[] = [];
      const result = await c.execute(
        { provider: "ping", args: [], where: { hostname: "*1" } },
        context(events),
      );
      assert.deepEqual(
        result.hosts.map((h) => [h.hostname, h.status, h.short]),
        [
          ["fast1", "ok", "pong"],
          ["legacy1", "ok", "pong"],
        ],
      );
      assert.equal(result.summary.acked, 2);
      const replies = wire
        .replies(names.reply(result.requestId))
        .filter((r) => r.status !== "noop");
      assert.deepEqual(
        replies.filter((r) => r.hostname === "legacy1").map((r) => [r.status, r.protocol]),
        [
          ["start", 1],
          ["complete", 1],
        ],
      );
      assert.deepEqual(
        replies.filter((r) => r.hostname === "fast1").map((r) => [r.status, r.protocol]),
        [["complete", 2]],
      );
    } finally {
      await legacy.stop();
    }
  });
});
