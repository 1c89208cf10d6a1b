/**
 * lib/seal.ts on its own: what a sealed record looks like, that it opens only as the kind and
 * under the key it was sealed for, that every edit is caught, and that refusals are counted
 * and logged without the payload or key material.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { inspect } from "node:util";
import { createLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { SealError, StateSealer, type OpenResult } from "../../lib/seal.ts";
import { loadPrivateKey } from "../../executors/fleet/protocol/keys.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { testSealKeyFile, testSealer } from "../harness/seal.ts";

const KIND = "confirm";
const KEY = "commodore:confirm:k7m2qx";
const RECORD = { risk: "dangerous", requester: { id: "alice" }, needsOtherPerson: true };

interface Envelope {
  v: unknown;
  kid: unknown;
  payload: unknown;
  mac: unknown;
}

function reasonOf(result: OpenResult<unknown>): string {
  return result.ok ? "ok" : result.reason;
}

/** `raw` with its envelope changed by `edit`. */
function edited(raw: string, edit: (e: Envelope) => void): string {
  const envelope = JSON.parse(raw) as Envelope;
  edit(envelope);
  return JSON.stringify(envelope);
}

describe("StateSealer", () => {
  const sealer = testSealer();

  test("a sealed record is a v1 envelope and opens to the same value", () => {
    const raw = sealer.seal(KIND, KEY, RECORD);
    const envelope = JSON.parse(raw) as Envelope;
    assert.deepEqual(Object.keys(envelope).sort(), ["kid", "mac", "payload", "v"]);
    assert.equal(envelope.v, 1);
    assert.equal(envelope.kid, sealer.keyId);
    assert.equal(envelope.payload, JSON.stringify(RECORD));
    assert.match(String(envelope.mac), /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(sealer.open(KIND, KEY, raw), { ok: true, value: RECORD });
  });

  test("the same controller key gives the same MAC key, from OpenSSH or PKCS#8 files", () => {
    const again = StateSealer.fromPrivateKey(loadPrivateKey(testSealKeyFile()).key);
    assert.equal(again.keyId, sealer.keyId);
    assert.equal(reasonOf(again.open(KIND, KEY, sealer.seal(KIND, KEY, RECORD))), "ok");
    const openssh = makeKey("ed25519").privatePath;
    const a = StateSealer.fromPrivateKey(loadPrivateKey(openssh).key);
    const b = StateSealer.fromPrivateKey(loadPrivateKey(openssh).key);
    assert.equal(reasonOf(b.open(KIND, KEY, a.seal(KIND, KEY, RECORD))), "ok");
    assert.notEqual(a.keyId, sealer.keyId);
  });

  test("every edit of the payload is caught", () => {
    const raw = sealer.seal(KIND, KEY, RECORD);
    for (const change of [
      { risk: "read" },
      { requester: { id: "mallory" } },
      { needsOtherPerson: false },
    ]) {
      const tampered = edited(raw, (e) => {
        e.payload = JSON.stringify({ ...RECORD, ...change });
      });
      assert.equal(reasonOf(sealer.open(KIND, KEY, tampered)), "bad_mac", JSON.stringify(change));
    }
    const spaced = edited(raw, (e) => {
      e.payload = `${String(e.payload)} `;
    });
    assert.equal(reasonOf(sealer.open(KIND, KEY, spaced)), "bad_mac");
  });

  test("a record opens only as its kind and under its key", () => {
    const raw = sealer.seal(KIND, KEY, RECORD);
    assert.equal(reasonOf(sealer.open("job", KEY, raw)), "bad_mac");
    assert.equal(reasonOf(sealer.open(KIND, "commodore:confirm:zzzzzz", raw)), "bad_mac");
    // Length-prefixed fields: moving bytes between kind and key does not verify either.
    const split = sealer.seal("ab", "c", RECORD);
    assert.equal(reasonOf(sealer.open("a", "bc", split)), "bad_mac");
  });

  test("a MAC or key id edit, another key, and broken envelopes are refused by reason", () => {
    const raw = sealer.seal(KIND, KEY, RECORD);
    const flipped = edited(raw, (e) => {
      const mac = String(e.mac);
      e.mac = `${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`;
    });
    assert.equal(reasonOf(sealer.open(KIND, KEY, flipped)), "bad_mac");
    const other = StateSealer.fromPrivateKey(generateKeyPairSync("ed25519").privateKey);
    assert.equal(reasonOf(sealer.open(KIND, KEY, other.seal(KIND, KEY, RECORD))), "wrong_key");
    // Claiming our key id does not help a record sealed under another key.
    const claimed = edited(other.seal(KIND, KEY, RECORD), (e) => {
      e.kid = sealer.keyId;
    });
    assert.equal(reasonOf(sealer.open(KIND, KEY, claimed)), "bad_mac");

    const cases: Array<[string, string]> = [
      [JSON.stringify(RECORD), "unsigned"],
      ["not json", "malformed"],
      [raw.slice(0, raw.length - 5), "malformed"],
      ["", "malformed"],
      ["[1,2]", "malformed"],
      ["42", "malformed"],
      ["null", "malformed"],
      [edited(raw, (e) => (e.v = 2)), "malformed"],
      [edited(raw, (e) => (e.mac = String(e.mac).slice(0, 20))), "malformed"],
      [edited(raw, (e) => (e.mac = 7)), "malformed"],
      [edited(raw, (e) => (e.payload = RECORD)), "malformed"],
      [edited(raw, (e) => (e.kid = "short")), "malformed"],
      [JSON.stringify({ ...(JSON.parse(raw) as object), extra: 1 }), "malformed"],
      [JSON.stringify({ v: 1, payload: "{}" }), "malformed"],
    ];
    for (const [input, reason] of cases)
      assert.equal(reasonOf(sealer.open(KIND, KEY, input)), reason, input);
  });

  test("refusals are counted by kind and reason and logged without payload or key material", () => {
    const metrics = new MetricsRegistry();
    const lines: string[] = [];
    const logged = testSealer({ metrics, logger: createLogger({ sink: (l) => lines.push(l) }) });
    const secret = { token: "hunter2-secret-value" };
    const raw = logged.seal(KIND, KEY, secret);
    const tampered = edited(raw, (e) => {
      e.payload = JSON.stringify({ token: "hunter3-secret-value" });
    });
    assert.equal(logged.open(KIND, KEY, tampered).ok, false);
    assert.equal(logged.open(KIND, KEY, "nope").ok, false);
    assert.equal(logged.verify(KIND, KEY, "nope").ok, false, "verify alone does not count");
    logged.reject(KIND, KEY, "replayed", "nonce already consumed");
    const text = metrics.render();
    assert.match(text, /commodore_state_rejected_total\{kind="confirm",reason="bad_mac"\} 1/);
    assert.match(text, /commodore_state_rejected_total\{kind="confirm",reason="malformed"\} 1/);
    assert.match(text, /commodore_state_rejected_total\{kind="confirm",reason="replayed"\} 1/);
    assert.equal(lines.length, 3);
    const first = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    assert.equal(first["redisKey"], KEY);
    assert.equal(first["kind"], KIND);
    assert.equal(first["reason"], "bad_mac");
    const all = lines.join("\n");
    assert.doesNotMatch(all, /hunter/);
    assert.doesNotMatch(all, new RegExp(String((JSON.parse(raw) as Envelope).mac)));
    assert.doesNotMatch(inspect(logged, { showHidden: true, depth: 5 }), /[A-Za-z0-9+/]{40,}/);
  });

  test("misuse is a SealError: public keys, odd kinds, values that are not JSON", () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    assert.throws(() => StateSealer.fromPrivateKey(publicKey), SealError);
    assert.throws(() => sealer.seal("Bad Kind", KEY, RECORD), SealError);
    assert.throws(() => sealer.seal(KIND, KEY, undefined), SealError);
    assert.throws(() => sealer.open("", KEY, "{}"), SealError);
  });
});
