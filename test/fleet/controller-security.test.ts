import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PROTOCOL_VERSION, type ReplyMessage } from "../../executors/fleet/protocol/messages.ts";
import {
  REGISTRATION_NAMESPACE,
  REPLY_NAMESPACE,
} from "../../executors/fleet/protocol/channels.ts";
import { startFleet, sleepProvider, type TestFleet } from "../harness/agents.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";
import { context, names, rejected, signedWith, spy } from "./helpers.ts";

describe("the controller rejects replies it must not believe (real Redis)", () => {
  let fleet: TestFleet;
  let wire: Awaited<ReturnType<typeof spy>>;
  before(async () => {
    fleet = await startFleet(
      ["www01", "www02", "db01"].map((hostname) => ({
        hostname,
        facts: { role: hostname.slice(0, 2) },
        providers: [sleepProvider()],
      })),
    );
    wire = await spy(fleet.redis.url);
    await wire.listen(names.requests);
  });
  after(async () => {
    await wire.close();
    await fleet.stop();
  });

  function reply(
    requestId: string,
    hostname: string,
    status: ReplyMessage["status"] = "complete",
  ): ReplyMessage {
    return {
      protocol: PROTOCOL_VERSION,
      type: "reply",
      in_reply_to: requestId,
      uuid: crypto.randomUUID(),
      hostname,
      status,
      sent_at: Date.now(),
      output: { exit: 0, short: "forged" },
    };
  }

  test("garbage, malformed JSON, unpinned keys, wrong namespace and stray request ids on the reply channel", async () => {
    const c = fleet.controller();
    const www01Key = fleet.agents.get("www01")?.key.privatePath ?? "";
    wire.onMessage((channel, raw) => {
      if (channel !== names.requests) return;
      const { payload } = JSON.parse(raw) as { payload: string };
      const req = JSON.parse(payload) as { id: string; reply_to: string };
      const inject = [
        Buffer.from([0xde, 0xad, 0xbe, 0xef]),
        "[[[",
        '{"payload":"{}"}',
        signedWith(makeKey().privatePath, REPLY_NAMESPACE, reply(req.id, "www01")),
        signedWith(www01Key, REGISTRATION_NAMESPACE, reply(req.id, "www01")),
        signedWith(www01Key, REPLY_NAMESPACE, reply(crypto.randomUUID(), "www01")),
      ];
      for (const m of inject) void wire.client.publish(req.reply_to, m);
    });
    const result = await c.execute({ provider: "sleep", args: ["300"], where: {} }, context());
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status, h.short]),
      ["db01", "www01", "www02"].map((h) => [h, "ok", "slept 300 ms"]),
    );
    for (const reason of [
      "malformed_json",
      "malformed_envelope",
      "unpinned_key",
      "wrong_namespace",
      "not_open",
    ]) {
      assert.ok(rejected(c.metrics, "controller", reason) >= 1, `expected a ${reason} rejection`);
    }
  });

  test("a host that registers with a different key is refused and its replies do not count", async () => {
    const c = fleet.controller({ ackTimeoutMs: 500 });
    const before = await c.nodes();
    assert.deepEqual(
      before.map((n) => n.hostname),
      ["db01", "www01", "www02"],
    );
    const imposter = makeKey();
    const reg = JSON.parse(
      JSON.parse((await wire.client.get(names.node("www02"))) ?? "{}").payload as string,
    ) as Record<string, unknown>;
    await wire.client.set(
      names.node("www02"),
      signedWith(imposter.privatePath, REGISTRATION_NAMESPACE, {
        ...reg,
        public_key: imposter.publicLine,
      }),
    );
    await wire.client.zadd(names.nodeIndex, Date.now(), "www02");
    // The imposter displaces nothing: www02 stays accepted, listed from its last verified
    // registration, and the imposter's key waits as pending with the reason, counted.
    const after = await c.nodes();
    assert.deepEqual(
      after.map((n) => [n.hostname, n.absent === true]),
      [
        ["db01", false],
        ["www01", false],
        ["www02", true],
      ],
    );
    assert.equal(after[2]?.facts["role"], "ww");
    const waiting = await c.enrollment.unaccepted();
    assert.deepEqual(
      waiting.map((n) => [n.hostname, n.state, n.keyChanged, n.fingerprint]),
      [["www02", "pending", true, imposter.fingerprint]],
    );
    assert.match(waiting[0]?.detail ?? "", /not the key accepted/);
    assert.equal(rejected(c.metrics, "controller", "key_mismatch"), 1);
    await c.nodes();
    assert.equal(rejected(c.metrics, "controller", "key_mismatch"), 1, "counted once");
  });

  test("a pinned host missing from the registry is still expected and answers", async () => {
    await wire.client.del(names.node("db01"));
    const c = fleet.controller({ ackTimeoutMs: 500 });
    const result = await c.execute({ provider: "ping", args: [], where: {} }, context());
    // db01's registration is gone and www02's was replaced by the imposter above: both are
    // awaited from their last verified facts, and answer.
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      [
        ["db01", "ok"],
        ["www01", "ok"],
        ["www02", "ok"],
      ],
    );
    assert.equal(result.summary.expected, 3);
    assert.equal(result.summary.unexpected, 0);
  });

  test("with a known hosts file only the listed keys count", async () => {
    const file = join(tempDir(), "known_hosts");
    writeFileSync(file, `www01 ${fleet.agents.get("www01")?.key.publicLine ?? ""}\n`);
    const c = fleet.controller({ knownHostsPath: file, ackTimeoutMs: 500 });
    // www01 by the file; the hosts stored records accepted earlier stay accepted (and expected).
    const nodes = await c.nodes();
    assert.deepEqual(
      nodes.map((n) => n.hostname),
      ["db01", "www01", "www02"],
    );
    assert.equal(nodes.find((n) => n.hostname === "www01")?.absent, undefined);
  });
});
