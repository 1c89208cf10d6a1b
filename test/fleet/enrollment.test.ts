/**
 * Enrollment against real Redis and real agents, as an attacker with a fresh key and Redis
 * write access would try it: new hosts stay pending, planted or moved pins are ignored and
 * counted, old registrations cannot be replayed, host certificates from a trusted CA enroll
 * by policy, and rejected or revoked keys never answer.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { signerLine } from "../../executors/fleet/keygen.ts";
import {
  REGISTRATION_NAMESPACE,
  ENROLLMENT_NAMESPACE,
} from "../../executors/fleet/protocol/channels.ts";
import { PROTOCOL_VERSION } from "../../executors/fleet/protocol/messages.ts";
import { sleepProvider, startFleet, type TestFleet } from "../harness/agents.ts";
import { makeKey, type TestKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";
import { context, names, rejected, signedWith, spy } from "./helpers.ts";

/** Signs `key`'s public half as a host certificate with `ca` (extra ssh-keygen flags allowed). */
function hostCert(ca: TestKey, key: TestKey, principals: string, extra: string[] = []): string {
  execFileSync("ssh-keygen", [
    "-q",
    "-s",
    ca.privatePath,
    "-I",
    `test-${principals}`,
    "-h",
    "-n",
    principals,
    ...extra,
    key.publicPath,
  ]);
  return key.publicPath.replace(/\.pub$/, "-cert.pub");
}

function userCert(ca: TestKey, key: TestKey, principals: string): string {
  execFileSync("ssh-keygen", [
    "-q",
    "-s",
    ca.privatePath,
    "-I",
    "u",
    "-n",
    principals,
    key.publicPath,
  ]);
  return key.publicPath.replace(/\.pub$/, "-cert.pub");
}

describe("enrollment: only keys the controller accepted count (real Redis, real agents)", () => {
  let fleet: TestFleet;
  let wire: Awaited<ReturnType<typeof spy>>;
  before(async () => {
    fleet = await startFleet(
      [
        { hostname: "www01", facts: { role: "web" } },
        { hostname: "www02", facts: { role: "web" } },
        { hostname: "db01", facts: { role: "db" } },
      ].map((spec) => ({ ...spec, providers: [sleepProvider()] })),
    );
    wire = await spy(fleet.redis.url);
  });
  after(async () => {
    await wire.close();
    await fleet.stop();
  });

  const manual = (opts = {}) =>
    fleet.controller({ enrollment: "manual", ackTimeoutMs: 400, ...opts });

  test("a new agent is pending: never expected, listed with its fingerprint, its replies dropped and counted", async () => {
    const c = manual();
    assert.deepEqual(await c.nodes(), []);
    const waiting = await c.enrollment.unaccepted();
    assert.deepEqual(
      waiting.map((n) => [n.hostname, n.state, n.fingerprint]),
      ["db01", "www01", "www02"].map((h) => [h, "pending", fleet.agents.get(h)?.key.fingerprint]),
    );
    assert.equal((await c.expectedHosts({ role: "web" })).length, 0);
    await c.enrollment.accept("www01", "alice");
    // A provider that takes a while keeps the request open while the pending host answers.
    const result = await c.execute(
      { provider: "sleep", args: ["300"], where: { role: "web" } },
      context(),
    );
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      [["www01", "ok"]],
    );
    assert.ok(
      rejected(c.metrics, "controller", "pending_key") >= 1,
      "pending hosts' replies are counted",
    );
    for (const h of ["www02", "db01"]) await c.enrollment.accept(h, "alice");
    const now = await c.execute({ provider: "ping", args: [], where: { role: "web" } }, context());
    assert.deepEqual(
      now.hosts.map((h) => [h.hostname, h.status]),
      [
        ["www01", "ok"],
        ["www02", "ok"],
      ],
    );
  });

  test("evil01 with a fresh key and role=web is pending and never answers as ok", async () => {
    const evil = await fleet.addAgent({ hostname: "evil01", facts: { role: "web" } });
    const c = manual();
    const result = await c.execute(
      { provider: "ping", args: [], where: { role: "web" } },
      context(),
    );
    assert.deepEqual(
      result.hosts.map((h) => h.hostname),
      ["www01", "www02"],
    );
    assert.equal(result.summary.unexpected, 0);
    const pending = await c.enrollment.unaccepted();
    assert.deepEqual(
      pending.map((n) => [n.hostname, n.fingerprint]),
      [["evil01", evil.key.fingerprint]],
    );
    assert.ok(!(await c.nodes()).some((n) => n.hostname === "evil01"));
  });

  test("an agent claiming an accepted hostname with another key is pending (key changed) and cannot answer for it", async () => {
    const c = manual();
    const imposter = makeKey();
    const reg = JSON.parse(
      JSON.parse((await wire.client.get(names.node("db01"))) ?? "{}").payload as string,
    ) as Record<string, unknown>;
    await wire.client.set(
      names.node("db01"),
      signedWith(imposter.privatePath, REGISTRATION_NAMESPACE, {
        ...reg,
        public_key: imposter.publicLine,
        sent_at: Date.now(),
      }),
    );
    const waiting = (await c.enrollment.unaccepted()).find((n) => n.hostname === "db01");
    assert.equal(waiting?.state, "pending");
    assert.equal(waiting?.keyChanged, true);
    const bulk = await c.enrollment.acceptMatching(
      { all: false, node_facts: { role: "db" } },
      "bob",
    );
    assert.deepEqual(bulk.changes, [], "a key change is never bulk-accepted");
    assert.deepEqual(
      bulk.keyChanged.map((n) => n.hostname),
      ["db01"],
    );
    // The real db01 heartbeats its own registration back; it is accepted again.
    const dbKey = fleet.agents.get("db01")?.key;
    await fleet.agents.get("db01")?.agent.stop();
    await fleet.addAgent({
      hostname: "db01",
      facts: { role: "db" },
      ...(dbKey === undefined ? {} : { key: dbKey }),
    });
    assert.ok((await c.nodes()).some((n) => n.hostname === "db01" && n.state === "accepted"));
  });

  test("HSET {commodore}:pins with an attacker's key, a self-signed record or a moved record is ignored and counted", async () => {
    const c = manual();
    const attacker = makeKey();
    const www02Record = await wire.client.hget(names.pins, "www02");
    await wire.client.hset(
      names.pins,
      "www01",
      attacker.publicLine.split(" ").slice(0, 2).join(" "),
    );
    const forged = signedWith(attacker.privatePath, ENROLLMENT_NAMESPACE, {
      protocol: PROTOCOL_VERSION,
      type: "enrollment",
      decision: "accepted",
      hostname: "evil01",
      public_key: fleet.agents.get("evil01")?.key.publicLine.split(" ").slice(0, 2).join(" "),
      via: "operator",
      by: "mallory",
      signer: "commodore",
      at: Date.now(),
    });
    await wire.client.hset(names.pins, "evil01", forged);
    await wire.client.hset(names.pins, "db01", www02Record ?? "");
    const nodes = await c.nodes();
    assert.deepEqual(
      nodes.map((n) => n.hostname),
      ["www02"],
      "www01 and db01 lost their records to the attacker (denial), evil01 gained nothing",
    );
    assert.ok(rejected(c.metrics, "controller", "unsigned_pin") >= 3);
    assert.ok((await c.enrollment.unaccepted()).some((n) => n.hostname === "evil01"));
    // The operator re-accepts; a planted record never made anyone answer.
    await c.enrollment.accept("www01", "alice");
    await c.enrollment.accept("db01", "alice");
    assert.deepEqual(
      (await c.nodes()).map((n) => n.hostname),
      ["db01", "www01", "www02"],
    );
  });

  test("records a controller already verified are not believed once their text changes in Redis", async () => {
    // One controller across reads: its records are cached by the digest of their text, and
    // an attacker edits the stored texts after they were verified.
    const c = manual();
    assert.deepEqual(
      (await c.nodes()).filter((n) => n.state === "accepted").map((n) => n.hostname),
      ["db01", "www01", "www02"],
    );
    const before = rejected(c.metrics, "controller", "unsigned_pin");
    const attackerLine = makeKey().publicLine.split(" ").slice(0, 2).join(" ");
    const www01Line = fleet.agents.get("www01")?.key.publicLine.split(" ").slice(0, 2).join(" ");
    const www01Record = (await wire.client.hget(names.pins, "www01")) ?? "";
    const www02Record = (await wire.client.hget(names.pins, "www02")) ?? "";
    assert.ok(www01Line !== undefined && www01Record.includes(www01Line));
    // The attacker's key inside www01's signed record, signature kept: the text is new, so it
    // is verified again and fails; www02's verified record copied under db01 is misplaced.
    await wire.client.hset(names.pins, "www01", www01Record.replace(www01Line, attackerLine));
    await wire.client.hset(names.pins, "db01", www02Record);
    const nodes = await c.nodes();
    assert.deepEqual(
      nodes.filter((n) => n.state === "accepted").map((n) => n.hostname),
      ["www02"],
    );
    assert.ok((await c.enrollment.unaccepted()).some((n) => n.hostname === "www01"));
    assert.ok(rejected(c.metrics, "controller", "unsigned_pin") >= before + 2);
    await c.enrollment.accept("www01", "alice");
    await c.enrollment.accept("db01", "alice");
    assert.deepEqual(
      (await c.nodes()).filter((n) => n.state === "accepted").map((n) => n.hostname),
      ["db01", "www01", "www02"],
    );
  });

  test("a planted rejection is ignored; reject and revoke write signed ones that stop a host at once", async () => {
    const c = manual();
    const www01 = fleet.agents.get("www01")?.key;
    await wire.client.hset(names.rejectedKeys, www01?.fingerprint ?? "", "{}");
    assert.ok((await c.nodes()).some((n) => n.hostname === "www01"));
    assert.ok(rejected(c.metrics, "controller", "unsigned_pin") >= 1);

    const evil = await c.enrollment.reject("evil01", "alice");
    assert.deepEqual([evil.from, evil.to], ["pending", "rejected"]);
    assert.equal(
      (await c.enrollment.unaccepted()).find((n) => n.hostname === "evil01")?.state,
      "rejected",
    );
    await assert.rejects(c.enrollment.reject("www02", "alice"), { code: "E_NODE_STATE" });

    const revoked = await c.enrollment.revoke("www02", "alice");
    assert.deepEqual([revoked.from, revoked.to], ["accepted", "rejected"]);
    const result = await c.execute(
      { provider: "ping", args: [], where: { role: "web" } },
      context(),
    );
    assert.deepEqual(
      result.hosts.map((h) => h.hostname),
      ["www01"],
    );
    assert.ok(rejected(c.metrics, "controller", "rejected_key") >= 1);
    await c.enrollment.accept("www02", "alice");
    assert.ok((await c.nodes()).some((n) => n.hostname === "www02"));
    await assert.rejects(c.enrollment.accept("nosuch", "alice"), { code: "E_NODE_NOT_REGISTERED" });
  });

  test("an old or future-dated signed registration is refused as stale", async () => {
    const c = manual();
    const key = fleet.agents.get("www01")?.key;
    const original = (await wire.client.get(names.node("www01"))) ?? "{}";
    const reg = JSON.parse((JSON.parse(original) as { payload: string }).payload) as Record<
      string,
      unknown
    >;
    for (const sentAt of [Date.now() - 10 * 60_000, Date.now() + 10 * 60_000]) {
      await wire.client.set(
        names.node("www01"),
        signedWith(key?.privatePath ?? "", REGISTRATION_NAMESPACE, { ...reg, sent_at: sentAt }),
      );
      await wire.client.zadd(names.nodeIndex, sentAt, "www01");
      // Not live; still accepted, so listed as absent from its last verified registration.
      const www01 = (await c.nodes()).find((n) => n.hostname === "www01");
      assert.equal(www01?.absent, true);
    }
    assert.ok(rejected(c.metrics, "controller", "stale_registration") >= 2);
    await wire.client.set(names.node("www01"), original);
    await wire.client.zadd(names.nodeIndex, Date.now(), "www01");
    assert.equal((await c.nodes()).find((n) => n.hostname === "www01")?.absent, undefined);
  });

  test("host certificates from a @cert-authority enroll by policy; wrong principal, expired, user or untrusted certificates do not", async () => {
    const ca = makeKey("ed25519", "ca");
    const otherCa = makeKey("ed25519", "other-ca");
    const dir = tempDir();
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, `@cert-authority cert*,!cert-denied ${ca.publicLine}\n`);
    const cases: [string, (k: TestKey) => string][] = [
      ["cert-good", (k) => hostCert(ca, k, "cert-good")],
      ["cert-wrongname", (k) => hostCert(ca, k, "someone-else")],
      ["cert-expired", (k) => hostCert(ca, k, "cert-expired", ["-V", "20200101:20200102"])],
      ["cert-user", (k) => userCert(ca, k, "cert-user")],
      ["cert-untrusted", (k) => hostCert(otherCa, k, "cert-untrusted")],
      ["cert-denied", (k) => hostCert(ca, k, "cert-denied")],
    ];
    for (const [hostname, make] of cases) {
      const key = makeKey("ed25519", hostname);
      await fleet.addAgent({ hostname, key, options: { hostCertPath: make(key) } });
    }
    const c = manual({ knownHostsPath: knownHosts });
    const nodes = await c.nodes();
    const good = nodes.find((n) => n.hostname === "cert-good");
    assert.equal(good?.via, "certificate");
    assert.ok(!nodes.some((n) => n.hostname.startsWith("cert-") && n.hostname !== "cert-good"));
    const waiting = new Map(
      (await c.enrollment.unaccepted()).map((n) => [n.hostname, n.detail ?? ""]),
    );
    assert.match(waiting.get("cert-wrongname") ?? "", /principals do not include/);
    assert.match(waiting.get("cert-expired") ?? "", /expired/);
    assert.match(waiting.get("cert-user") ?? "", /not a host certificate/);
    assert.match(waiting.get("cert-untrusted") ?? "", /not signed by a trusted/);
    assert.match(waiting.get("cert-denied") ?? "", /no @cert-authority/);
    const result = await c.execute(
      { provider: "ping", args: [], where: { hostname: "cert-*" } },
      context(),
    );
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      [["cert-good", "ok"]],
    );
    // A controller without the CA in its known_hosts does not accept the certificate.
    assert.ok(!(await manual().nodes()).some((n) => n.hostname === "cert-good"));
  });

  test("@revoked in known_hosts refuses a key an operator accepted; plain lines accept statically", async () => {
    const dir = tempDir();
    const knownHosts = join(dir, "known_hosts");
    const www01 = fleet.agents.get("www01")?.key.publicLine ?? "";
    const evil = fleet.agents.get("evil01")?.key.publicLine ?? "";
    writeFileSync(knownHosts, `@revoked * ${www01}\nevil01 ${evil}\n`);
    const c = manual({ knownHostsPath: knownHosts });
    const nodes = await c.nodes();
    assert.ok(!nodes.some((n) => n.hostname === "www01"));
    // evil01's key was rejected by an operator above: a rejection wins over a plain line.
    assert.ok(!nodes.some((n) => n.hostname === "evil01"));
    const states = new Map((await c.enrollment.unaccepted()).map((n) => [n.hostname, n.state]));
    assert.equal(states.get("www01"), "rejected");
    assert.equal(states.get("evil01"), "rejected");
  });

  test("tofu mode accepts the first key for a hostname and holds a later one as a key change", async () => {
    const c = fleet.controller({ enrollment: "tofu", ackTimeoutMs: 400 });
    await fleet.addAgent({ hostname: "tofu01" });
    assert.equal((await c.nodes()).find((n) => n.hostname === "tofu01")?.via, "tofu");
    await fleet.agents.get("tofu01")?.agent.stop();
    await fleet.addAgent({ hostname: "tofu01" });
    // The accepted tofu01 keeps its place (absent: its key is no longer registered).
    assert.equal((await c.nodes()).find((n) => n.hostname === "tofu01")?.absent, true);
    assert.equal(
      (await c.enrollment.unaccepted()).find((n) => n.hostname === "tofu01")?.keyChanged,
      true,
    );
  });

  test("tofu: an acceptance planted in Redis before the host registers is not believed", async () => {
    const c = fleet.controller({ enrollment: "tofu", ackTimeoutMs: 400 });
    const attacker = makeKey("ed25519", "attacker");
    // Planted first, so the controller's HSETNX loses the race to it.
    const planted = signedWith(attacker.privatePath, ENROLLMENT_NAMESPACE, {
      protocol: PROTOCOL_VERSION,
      type: "enrollment",
      decision: "accepted",
      hostname: "tofu02",
      public_key: attacker.publicLine.split(" ").slice(0, 2).join(" "),
      via: "tofu",
      by: "mallory",
      signer: "ops",
      at: Date.now(),
    });
    await wire.client.hset(names.pins, "tofu02", planted);
    await fleet.addAgent({ hostname: "tofu02" });
    const before = rejected(c.metrics, "controller", "unsigned_pin");
    assert.ok(!(await c.nodes()).some((n) => n.hostname === "tofu02"), "neither key is accepted");
    assert.equal(
      (await c.enrollment.unaccepted()).find((n) => n.hostname === "tofu02")?.state,
      "pending",
    );
    assert.ok(rejected(c.metrics, "controller", "unsigned_pin") >= Math.max(before, 1));
    assert.equal(
      await wire.client.hget(names.pins, "tofu02"),
      planted,
      "first use never overwrites a record it cannot verify",
    );
  });

  test("another controller believes records only from keys its enrollment signers list", async () => {
    const other = makeKey("ed25519", "operator");
    const dir = tempDir();
    const signers = join(dir, "enrollment_signers");
    writeFileSync(
      signers,
      `${signerLine("ops", fleet.controllerKey.publicLine, ENROLLMENT_NAMESPACE)}\n`,
    );
    const trusting = fleet.controller({
      enrollment: "manual",
      keyPath: other.privatePath,
      enrollmentSignersPath: signers,
    });
    assert.ok((await trusting.nodes()).some((n) => n.hostname === "www02"));
    const blind = fleet.controller({ enrollment: "manual", keyPath: other.privatePath });
    assert.deepEqual(await blind.nodes(), []);
    assert.ok(rejected(blind.metrics, "controller", "unsigned_pin") >= 1);
  });
});
