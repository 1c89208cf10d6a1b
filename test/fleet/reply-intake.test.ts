import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { Collector } from "../../executors/fleet/controller/collector.ts";
import { ReplyIntake, type PendingReply } from "../../executors/fleet/controller/reply-intake.ts";
import {
  pinnedKeyVerifier,
  sshsigSigner,
  type PayloadVerifier,
} from "../../executors/fleet/protocol/auth.ts";
import { REPLY_NAMESPACE, REQUEST_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import { loadPrivateKey } from "../../executors/fleet/protocol/keys.ts";
import { PROTOCOL_VERSION, type ReplyMessage } from "../../executors/fleet/protocol/messages.ts";
import type { Rejection } from "../../executors/fleet/protocol/rejections.ts";
import { IN_FLIGHT_PER_THREAD } from "../../executors/fleet/protocol/verify-pool.ts";
import type { FleetProgress } from "../../executors/fleet/types.ts";
import { makeKey } from "../harness/ssh-keys.ts";

const hostKeys = {
  a: loadPrivateKey(makeKey().privatePath),
  b: loadPrivateKey(makeKey().privatePath),
  c: loadPrivateKey(makeKey().privatePath),
};
const forger = loadPrivateKey(makeKey().privatePath);
const pins = new Map([
  ["a", hostKeys.a.public.line],
  ["b", hostKeys.b.public.line],
  ["c", hostKeys.c.public.line],
]);
const REQUEST_ID = randomUUID();

/** Counts every signature check the intake asks for. */
function countingVerifier(): { verifier: PayloadVerifier; calls: () => number } {
  const inner = pinnedKeyVerifier((h) => pins.get(h), REPLY_NAMESPACE);
  let calls = 0;
  return {
    calls: () => calls,
    verifier: {
      verify: (...args) => (calls++, inner.verify(...args)),
      verifyAsync: (...args) => (calls++, inner.verifyAsync?.(...args) ?? Promise.reject()),
    },
  };
}

function reply(hostname: string, status: ReplyMessage["status"]): ReplyMessage {
  return {
    protocol: PROTOCOL_VERSION,
    type: "reply",
    in_reply_to: REQUEST_ID,
    uuid: randomUUID(),
    hostname,
    status,
    sent_at: Date.now(),
    ...(status === "complete" ? { output: { exit: 0, short: "pong" } } : {}),
  };
}

type Signed = { reply: ReplyMessage; payload: string; sig: string; label: string };

function signed(label: string, r: ReplyMessage, key = hostKeys.a, ns = REPLY_NAMESPACE): Signed {
  const payload = JSON.stringify(r);
  return { reply: r, payload, sig: sshsigSigner(key, ns).sign(payload), label };
}

/**
 * Feeds `items` to an intake wired to a real Collector (`gapMs` apart when set, else in one
 * batch); resolves when every item settled.
 */
async function run(
  items: readonly Signed[],
  concurrency: number,
  expected = ["a", "b"],
  { startHoldMs = 0, gapMs = 0 } = {},
) {
  const { verifier, calls } = countingVerifier();
  const events: FleetProgress[] = [];
  const collector = new Collector({
    expected,
    ackTimeoutMs: 60_000,
    execTimeoutMs: 60_000,
    progress: (e) => void events.push(e),
    clock: () => performance.now(),
  });
  const log: string[] = [];
  let settled = 0;
  const intake = new ReplyIntake({
    verifier,
    concurrency,
    now: Date.now,
    startHoldMs,
    clock: () => performance.now(),
    onSkipped: (p) => {
      settled++;
      log.push(`skipped ${p.reply.hostname} ${p.reply.status}`);
    },
  });
  for (const item of items) {
    const pending: PendingReply = {
      reply: item.reply,
      payload: item.payload,
      sig: item.sig,
      stale: () => collector.stale(item.reply.hostname),
      accept: (r) => {
        settled++;
        const outcome = collector.accept(r);
        log.push(
          `accepted ${item.label}${outcome === "accepted" ? "" : ` (${JSON.stringify(outcome)})`}`,
        );
      },
      refuse: (rej: Rejection) => {
        settled++;
        log.push(`refused ${item.label}: ${rej.reason}`);
      },
    };
    intake.submit(pending);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  while (settled < items.length) await new Promise((r) => setImmediate(r));
  collector.abort("test over");
  return { log, events, calls: calls(), collector };
}

// One verification thread returns its batches in order, so when a start's turn comes is
// deterministic; several threads are covered by verify-pool.test.ts.
for (const concurrency of [0, 1]) {
  describe(`reply intake, ${concurrency === 0 ? "in-thread" : "on a verification thread"}`, () => {
    test("forged, re-namespaced and tampered replies are refused exactly like the in-thread check", async () => {
      const good = signed("good", reply("a", "complete"));
      const tampered = { ...signed("tampered", reply("b", "complete"), hostKeys.b) };
      tampered.payload = tampered.payload.replace("pong", "gnop");
      const { log } = await run(
        [
          signed("forged", reply("b", "complete"), forger),
          signed("namespace", reply("b", "complete"), hostKeys.b, REQUEST_NAMESPACE),
          tampered,
          signed("other-host-key", reply("b", "complete"), hostKeys.a),
          good,
        ],
        concurrency,
      );
      assert.deepEqual(log.sort(), [
        "accepted good",
        "refused forged: unpinned_key",
        "refused namespace: wrong_namespace",
        "refused other-host-key: unpinned_key",
        "refused tampered: bad_signature",
      ]);
    });

    test("a start queued behind its host's verified complete is skipped unverified", async () => {
      // More completes than may be handed to the verification threads at once, so the start
      // has to wait its turn.
      const others = Array.from(
        { length: concurrency * IN_FLIGHT_PER_THREAD + 1 },
        (_, i) => `other${i}`,
      );
      for (const h of others) pins.set(h, hostKeys.c.public.line);
      const { log, events, calls } = await run(
        [
          signed("start a", reply("a", "start")),
          signed("complete a", reply("a", "complete")),
          ...others.map((h) => signed(`complete ${h}`, reply(h, "complete"), hostKeys.c)),
        ],
        concurrency,
        ["a", ...others],
      );
      assert.deepEqual(
        log.sort(),
        [
          "accepted complete a",
          ...others.map((h) => `accepted complete ${h}`),
          "skipped a start",
        ].sort(),
      );
      assert.equal(calls, others.length + 1, "only the completes were verified");
      const acks = events.flatMap((e) => (e.kind === "ack" ? [e.hostname] : []));
      assert.deepEqual(acks.sort(), ["a", ...others].sort());
      const counts = events.flatMap((e) => (e.kind === "ack" ? [e.acked] : []));
      assert.deepEqual(counts, others.map((_, i) => i + 1).concat(others.length + 1));
    });

    test("a held start is skipped when its complete arrives later, even with idle capacity", async () => {
      const { log, calls } = await run(
        [signed("start a", reply("a", "start")), signed("complete a", reply("a", "complete"))],
        concurrency,
        ["a"],
        { startHoldMs: 5_000, gapMs: 5 },
      );
      assert.deepEqual(log, ["accepted complete a", "skipped a start"]);
      assert.equal(calls, 1);
    });

    test("a lone start is verified and acked once its hold is over", async () => {
      const { log, events } = await run(
        [signed("start a", reply("a", "start"))],
        concurrency,
        ["a"],
        {
          startHoldMs: 20,
        },
      );
      assert.deepEqual(log, ["accepted start a"]);
      assert.deepEqual(
        events.filter((e) => e.kind === "ack").map((e) => e.kind === "ack" && e.hostname),
        ["a"],
      );
    });

    test("acks come only from verified messages; a forged complete cannot suppress a real start", async () => {
      const { log, events, collector } = await run(
        [
          signed("start a", reply("a", "start")),
          signed("forged complete a", reply("a", "complete"), forger),
          signed("forged start b", reply("b", "start"), forger),
        ],
        concurrency,
      );
      assert.deepEqual(log.sort(), [
        "accepted start a",
        "refused forged complete a: unpinned_key",
        "refused forged start b: unpinned_key",
      ]);
      const acks = events.flatMap((e) => (e.kind === "ack" ? [e.hostname] : []));
      assert.deepEqual(acks, ["a"]);
      assert.equal(collector.summarize().summary.acked, 1);
    });

    test("replies for a closed request are refused without verification", async () => {
      const { verifier, calls } = countingVerifier();
      const refused: string[] = [];
      const intake = new ReplyIntake({
        verifier,
        concurrency,
        now: Date.now,
        onSkipped: () => undefined,
        startHoldMs: 0,
        clock: () => performance.now(),
      });
      const item = signed("late", reply("a", "complete"));
      await new Promise<void>((resolve) =>
        intake.submit({
          ...item,
          stale: () => ({ reason: "not_open", detail: "closed" }),
          accept: () => assert.fail("a reply for a closed request must not be accepted"),
          refuse: (r) => {
            refused.push(r.reason);
            resolve();
          },
        }),
      );
      assert.deepEqual(refused, ["not_open"]);
      assert.equal(calls(), 0);
    });
  });
}
