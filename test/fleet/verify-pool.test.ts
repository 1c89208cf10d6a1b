import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { REPLY_NAMESPACE, REQUEST_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import { loadPrivateKey, type PrivateKeyInfo } from "../../executors/fleet/protocol/keys.ts";
import {
  signSshsig,
  verifySshsig,
  verifySshsigAsync,
} from "../../executors/fleet/protocol/sshsig.ts";
import { signedData } from "../../executors/fleet/protocol/sshsig-data.ts";
import {
  MAX_THREAD_FAILURES,
  MIN_BATCH,
  VerifyPool,
  reserveVerifyThreads,
  verifyPool,
  type CryptoCall,
} from "../../executors/fleet/protocol/verify-pool.ts";
import { makeKey } from "../harness/ssh-keys.ts";

const MESSAGE = "the exact payload";
/** Long enough for a worker thread to boot and take a batch, short enough for CI. */
const THREAD_WAIT_MS = 10_000;
/** Idle time after which the idle-thread test's pool ends its thread. */
const IDLE_MS = 200;
/** How long a script that used the threads may take to exit on its own. */
const EXIT_WITHIN_MS = 15_000;

const keys: Record<string, PrivateKeyInfo> = {
  ed25519: loadPrivateKey(makeKey("ed25519").privatePath),
  ecdsa: loadPrivateKey(makeKey("ecdsa").privatePath),
  rsa: loadPrivateKey(makeKey("rsa").privatePath),
};
const forger = loadPrivateKey(makeKey("ed25519").privatePath);

/** Valid, tampered, re-namespaced and truncated blobs of every key type, with what they check. */
function cases(): [Buffer, string, string][] {
  const out: [Buffer, string, string][] = [];
  for (const key of Object.values(keys)) {
    const blob = signSshsig(key, REPLY_NAMESPACE, MESSAGE);
    out.push([blob, REPLY_NAMESPACE, MESSAGE]);
    out.push([blob, REPLY_NAMESPACE, `${MESSAGE}!`]);
    out.push([signSshsig(key, REQUEST_NAMESPACE, MESSAGE), REPLY_NAMESPACE, MESSAGE]);
    out.push([blob.subarray(0, blob.length - 3), REPLY_NAMESPACE, MESSAGE]);
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 1;
    out.push([flipped, REPLY_NAMESPACE, MESSAGE]);
  }
  out.push([signSshsig(forger, REPLY_NAMESPACE, MESSAGE), REPLY_NAMESPACE, MESSAGE]);
  return out;
}

/** Keeps `pool` busy until a thread is up and has taken a batch (one more than before). */
async function warmUp(pool: VerifyPool): Promise<void> {
  const many = calls(4 * MIN_BATCH);
  const deadline = Date.now() + THREAD_WAIT_MS;
  const before = pool.counts.threaded;
  while (pool.counts.threaded === before) {
    if (Date.now() > deadline) assert.fail("no verification thread took a batch");
    await Promise.all(many.map((c) => pool.verify(c.call)));
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `n` ed25519 calls over `message`, every other one with a wrong message. */
function calls(n: number): { call: CryptoCall; valid: boolean }[] {
  const key = keys["ed25519"];
  if (!key) throw new Error("no key");
  const data = signedData(REPLY_NAMESPACE, "sha512", MESSAGE);
  const blob = signSshsig(key, REPLY_NAMESPACE, MESSAGE);
  const signature = blob.subarray(blob.length - 64);
  return Array.from({ length: n }, (_, i) => ({
    call: {
      algorithm: null,
      data: i % 2 === 0 ? data : signedData(REPLY_NAMESPACE, "sha512", `${MESSAGE}${i}`),
      key: key.public.key,
      ieeeP1363: false,
      signature,
    },
    valid: i % 2 === 0,
  }));
}

describe("verification threads", () => {
  test("checks handed to threads reach exactly the in-thread verdicts, for every key type", async () => {
    reserveVerifyThreads(2);
    await warmUp(verifyPool);
    // Several copies, so enough reach the pool at once for a hand-off.
    const all = [...cases(), ...cases(), ...cases(), ...cases()];
    const want = all.map(([b, ns, m]) => verifySshsig(b, ns, m));
    const before = verifyPool.counts.threaded;
    const got = await Promise.all(all.map(([b, ns, m]) => verifySshsigAsync(b, ns, m)));
    assert.ok(verifyPool.counts.threaded > before, "some checks ran on a thread");
    assert.deepEqual(got, want);
    assert.deepEqual(
      want.slice(0, cases().length).map((r) => (r.ok ? "ok" : r.reason)),
      [
        ...["ed25519", "ecdsa", "rsa"].flatMap(() => [
          "ok",
          "bad_signature",
          "wrong_namespace",
          "malformed_signature",
          "bad_signature",
        ]),
        "ok",
      ],
    );
  });

  test("a batch too small for a hand-off is checked at once on the caller's thread", async () => {
    const pool = new VerifyPool();
    pool.reserve(1);
    const few = calls(MIN_BATCH - 1);
    const got = await Promise.all(few.map((c) => pool.verify(c.call)));
    assert.deepEqual(
      got,
      few.map((c) => c.valid),
    );
    assert.deepEqual(pool.counts, { inline: few.length, threaded: 0 });
  });

  test("once a thread is up, batches go to the threads with the same verdicts", async () => {
    const pool = new VerifyPool();
    pool.reserve(2);
    await warmUp(pool);
    const many = calls(4 * MIN_BATCH);
    const before = pool.counts.threaded;
    const got = await Promise.all(many.map((c) => pool.verify(c.call)));
    assert.deepEqual(
      got,
      many.map((c) => c.valid),
    );
    assert.ok(pool.counts.threaded > before, "some checks ran on a thread");
  });

  test("a batch big enough for one thread but not for two is not left waiting", async () => {
    const pool = new VerifyPool();
    pool.reserve(2);
    await warmUp(pool);
    // Both threads up and idle, and between one and two hand-offs' worth of checks.
    await new Promise((r) => setTimeout(r, 100));
    const some = calls(MIN_BATCH + MIN_BATCH / 2);
    const got = await Promise.race([
      Promise.all(some.map((c) => pool.verify(c.call))),
      new Promise((r) => setTimeout(r, THREAD_WAIT_MS, "stuck")),
    ]);
    assert.deepEqual(
      got,
      some.map((c) => c.valid),
    );
  });

  test("a thread idle for the idle time exits, and the next flood starts one again", async () => {
    const pool = new VerifyPool(undefined, IDLE_MS);
    pool.reserve(1);
    await warmUp(pool);
    assert.equal(pool.running, 1);
    const deadline = Date.now() + THREAD_WAIT_MS;
    while (pool.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.running, 0, `the idle thread still ran after ${THREAD_WAIT_MS} ms`);
    const before = pool.counts.threaded;
    await warmUp(pool);
    assert.ok(pool.counts.threaded > before, "a new thread took a batch after the old one exited");
    const many = calls(2 * MIN_BATCH);
    assert.deepEqual(
      await Promise.all(many.map((c) => pool.verify(c.call))),
      many.map((c) => c.valid),
    );
  });

  test("checks of a thread that dies are redone in-thread; repeated deaths stop the threads", async () => {
    const dying = `require("node:worker_threads").parentPort.on("message", () => process.exit(3));`;
    const pool = new VerifyPool(dying);
    pool.reserve(1);
    const many = calls(2 * MIN_BATCH);
    for (let round = 0; round <= MAX_THREAD_FAILURES + 1; round++) {
      const got = await Promise.all(many.map((c) => pool.verify(c.call)));
      assert.deepEqual(
        got,
        many.map((c) => c.valid),
      );
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(pool.counts.threaded, 0);
    assert.ok(pool.counts.inline >= many.length * (MAX_THREAD_FAILURES + 2));
  });

  test("a process that used the threads exits on its own right after its last check", () => {
    const pool = fileURLToPath(
      new URL("../../executors/fleet/protocol/verify-pool.ts", import.meta.url),
    );
    const sshsig = fileURLToPath(
      new URL("../../executors/fleet/protocol/sshsig.ts", import.meta.url),
    );
    const script = `
      const { reserveVerifyThreads, verifyPool } = await import(${JSON.stringify(pool)});
      const { signSshsig, verifySshsigAsync } = await import(${JSON.stringify(sshsig)});
      const { loadPrivateKey } = await import(${JSON.stringify(
        fileURLToPath(new URL("../../executors/fleet/protocol/keys.ts", import.meta.url)),
      )});
      const key = loadPrivateKey(${JSON.stringify(makeKey().privatePath)});
      reserveVerifyThreads(2);
      const blob = signSshsig(key, "ns", "m");
      const deadline = Date.now() + ${THREAD_WAIT_MS};
      while (verifyPool.counts.threaded === 0 && Date.now() < deadline) {
        await Promise.all(Array.from({ length: 64 }, () => verifySshsigAsync(blob, "ns", "m")));
        await new Promise((r) => setTimeout(r, 10));
      }
      console.log(verifyPool.counts.threaded > 0 ? "threaded" : "never threaded");
    `;
    const started = Date.now();
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: EXIT_WITHIN_MS },
    );
    assert.equal(run.error, undefined, `the process did not exit within ${EXIT_WITHIN_MS} ms`);
    assert.equal(run.stdout.trim(), "threaded", run.stderr);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(Date.now() - started < EXIT_WITHIN_MS);
  });
});
