import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { REPLY_NAMESPACE, REQUEST_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import { waitFor } from "../harness/ports.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { names, rejected, requestPayload, signedWith, spy } from "./helpers.ts";

describe("agents reject what they must not obey (real Redis)", () => {
  let fleet: TestFleet;
  let wire: Awaited<ReturnType<typeof spy>>;
  const hosts = ["a1", "a2"];
  before(async () => {
    fleet = await startFleet(hosts.map((hostname) => ({ hostname, facts: { role: "web" } })));
    wire = await spy(fleet.redis.url);
  });
  after(async () => {
    await wire.close();
    await fleet.stop();
  });

  const countAll = (reason: string) =>
    hosts.reduce(
      (n, h) => n + rejected(fleet.agents.get(h)?.metrics ?? fail(), "agent", reason),
      0,
    );
  const fail = (): never => {
    throw new Error("agent missing");
  };
  const send = async (raw: string | Buffer) =>
    void (await wire.client.publish(names.requests, raw));
  const expectRejected = async (reason: string, before: number) =>
    waitFor(`${reason} rejections`, () => countAll(reason) >= before + hosts.length, 5_000);

  async function answered(
    payload: ReturnType<typeof requestPayload>,
    raw: string,
  ): Promise<string[]> {
    await wire.listen(payload.reply_to);
    await send(raw);
    await waitFor(
      "two completes",
      () => wire.messages(payload.reply_to).filter((m) => m.includes("complete")).length === 2,
    );
    return wire.messages(payload.reply_to);
  }

  test("a correctly signed request is answered start + complete by every agent", async () => {
    const p = requestPayload();
    const replies = await answered(
      p,
      signedWith(fleet.controllerKey.privatePath, REQUEST_NAMESPACE, p),
    );
    assert.equal(replies.length, 4);
  });

  test("forged signature: a key not in allowed_signers, and a tampered payload", async () => {
    const before = countAll("unknown_signer");
    const p = requestPayload();
    await wire.listen(p.reply_to);
    await send(signedWith(makeKey().privatePath, REQUEST_NAMESPACE, p));
    await expectRejected("unknown_signer", before);
    const good = JSON.parse(signedWith(fleet.controllerKey.privatePath, REQUEST_NAMESPACE, p)) as {
      payload: string;
      sig: string;
    };
    const badBefore = countAll("bad_signature");
    await send(
      JSON.stringify({ payload: good.payload.replace('"ping"', '"facts"'), sig: good.sig }),
    );
    await expectRejected("bad_signature", badBefore);
    assert.deepEqual(wire.messages(p.reply_to), []);
  });

  test("wrong namespace: the controller key signing in the reply namespace", async () => {
    const before = countAll("wrong_namespace");
    await send(signedWith(fleet.controllerKey.privatePath, REPLY_NAMESPACE, requestPayload()));
    await expectRejected("wrong_namespace", before);
  });

  test("wrong principal: a listed key claiming another sender", async () => {
    const before = countAll("principal_mismatch");
    await send(
      signedWith(
        fleet.controllerKey.privatePath,
        REQUEST_NAMESPACE,
        requestPayload({ sender: "root" }),
      ),
    );
    await expectRejected("principal_mismatch", before);
  });

  test("replayed request: the second copy is rejected and not answered", async () => {
    const p = requestPayload();
    const raw = signedWith(fleet.controllerKey.privatePath, REQUEST_NAMESPACE, p);
    await answered(p, raw);
    const before = countAll("replay");
    await send(raw);
    await expectRejected("replay", before);
    assert.equal(wire.messages(p.reply_to).length, 4);
  });

  test("expired, future and over-long requests are rejected", async () => {
    const now = Date.now();
    const cases: [string, Partial<ReturnType<typeof requestPayload>>][] = [
      ["expired", { issued_at: now - 120_000, expires_at: now - 60_000 }],
      ["not_yet_valid", { issued_at: now + 120_000, expires_at: now + 150_000 }],
      ["ttl_too_long", { issued_at: now, expires_at: now + 3_600_000 }],
    ];
    for (const [reason, times] of cases) {
      const before = countAll(reason);
      await send(
        signedWith(fleet.controllerKey.privatePath, REQUEST_NAMESPACE, requestPayload(times)),
      );
      await expectRejected(reason, before);
    }
  });

  test("malformed JSON and garbage bytes are counted and the agents keep serving", async () => {
    const cases: [string, string | Buffer][] = [
      ["malformed_json", "{not json"],
      ["malformed_json", Buffer.from([0xff, 0x00, 0xfe, 0x13, 0x37])],
      ["malformed_envelope", '{"payload":42}'],
      ["malformed_json", JSON.stringify({ payload: "{", sig: "" })],
      [
        "unsupported_version",
        JSON.stringify({ payload: JSON.stringify({ protocol: 99 }), sig: "" }),
      ],
      [
        "malformed_payload",
        JSON.stringify({ payload: JSON.stringify({ protocol: 1, type: "request" }), sig: "" }),
      ],
      [
        "malformed_signature",
        JSON.stringify({ payload: JSON.stringify(requestPayload()), sig: "Z2FyYmFnZQ==" }),
      ],
      ["oversize", "x".repeat(300 * 1024)],
    ];
    for (const [reason, raw] of cases) {
      const before = countAll(reason);
      await send(raw);
      await expectRejected(reason, before);
    }
    const p = requestPayload();
    assert.equal(
      (await answered(p, signedWith(fleet.controllerKey.privatePath, REQUEST_NAMESPACE, p))).length,
      4,
    );
  });
});
