/**
 * A revocation stays revoked and a retired host stays retired, against an attacker who can
 * write Redis (the bot's credential or a Redis administrator): deleting the rejection record and
 * replaying the older signed acceptance change nothing while the controller keeps its
 * enrollment ledger in the state directory. Real Redis, real agents, real keys.
 */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EnrollmentLedger } from "../../executors/fleet/controller/ledger.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { tempDir } from "../harness/tmp.ts";
import { context, names, rejected, spy } from "./helpers.ts";

describe("enrollment ledger: Redis cannot undo a revocation or a retirement", () => {
  let fleet: TestFleet;
  let wire: Awaited<ReturnType<typeof spy>>;
  const ledgerPath = join(tempDir(), "state", "enrollment-ledger.jsonl");
  before(async () => {
    fleet = await startFleet([
      { hostname: "www01", facts: { role: "web" } },
      { hostname: "www02", facts: { role: "web" } },
      { hostname: "db01", facts: { role: "db" } },
    ]);
    wire = await spy(fleet.redis.url);
  });
  after(async () => {
    await wire.close();
    await fleet.stop();
  });

  const controller = () =>
    fleet.controller({
      enrollment: "manual",
      ackTimeoutMs: 500,
      enrollmentLedgerPath: ledgerPath,
    });

  test("a revoked key stays revoked when its rejection is deleted and the old acceptance replayed", async () => {
    const c = controller();
    const fp = (h: string) => fleet.agents.get(h)?.key.fingerprint ?? "";
    for (const h of ["www01", "www02", "db01"]) await c.enrollment.accept(h, "alice", fp(h));
    const acceptance = await wire.client.hget(names.pins, "www01");
    assert.ok(acceptance !== null);
    const change = await c.enrollment.revoke("www01", "alice");
    assert.deepEqual([change.from, change.to], ["accepted", "rejected"]);
    assert.match(readFileSync(ledgerPath, "utf8"), /"event":"rejected","hostname":"www01"/);

    // The attacker: the rejection record gone, the older signed acceptance put back.
    await wire.client.hdel(names.rejectedKeys, fp("www01"));
    await wire.client.hset(names.pins, "www01", acceptance);

    // A controller started afresh on the same state directory (a restart, another replica).
    const after = controller();
    const nodes = await after.nodes();
    assert.ok(!nodes.some((n) => n.hostname === "www01"), "www01 is not accepted again");
    const waiting = await after.enrollment.unaccepted();
    assert.equal(waiting.find((n) => n.hostname === "www01")?.state, "rejected");
    // The rejection is written back to Redis for every other reader.
    assert.ok((await wire.client.hget(names.rejectedKeys, fp("www01"))) !== null);
    assert.ok(rejected(after.metrics, "controller", "unsigned_pin") >= 1);
    // And www01's replies do not count: the answer is www02 alone.
    const result = await after.execute(
      { provider: "ping", args: [], where: { role: "web" } },
      context(),
    );
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      [["www02", "ok"]],
    );
  });

  test("an operator's explicit accept lifts the revocation, and the ledger remembers that too", async () => {
    const c = controller();
    const fp = fleet.agents.get("www01")?.key.fingerprint ?? "";
    const change = await c.enrollment.accept("www01", "alice", fp);
    assert.equal(change.to, "accepted");
    const again = controller();
    assert.ok((await again.nodes()).some((n) => n.hostname === "www01" && n.absent !== true));
    assert.equal(await wire.client.hget(names.rejectedKeys, fp), null);
  });

  test("a retired host is expected nowhere, and a replayed acceptance does not bring it back", async () => {
    const c = controller();
    const acceptance = await wire.client.hget(names.pins, "db01");
    assert.ok(acceptance !== null);
    await fleet.agents.get("db01")?.agent.stop();
    const absent = (await c.nodes()).find((n) => n.hostname === "db01");
    assert.equal(absent?.absent, true);
    const change = await c.enrollment.retire("db01", "alice");
    assert.deepEqual([change.from, change.to], ["accepted", "retired"]);
    assert.equal(change.note, undefined, "an absent host needs no warning");
    assert.ok(!(await c.nodes()).some((n) => n.hostname === "db01"));
    assert.equal(await wire.client.hget(names.lastKnown, "db01"), null);

    await wire.client.hset(names.pins, "db01", acceptance);
    const after = controller();
    assert.ok(!(await after.nodes()).some((n) => n.hostname === "db01"));
    await assert.rejects(
      after.execute({ provider: "ping", args: [], where: { role: "db" } }, context()),
      { code: "E_NO_MATCH" },
    );
  });

  test("retiring a live host says its agent still registers; an unknown host is refused", async () => {
    const c = controller();
    const change = await c.enrollment.retire("www02", "alice");
    assert.match(change.note ?? "", /still registering/);
    assert.equal(
      (await c.enrollment.unaccepted()).find((n) => n.hostname === "www02")?.state,
      "pending",
    );
    await assert.rejects(c.enrollment.retire("nosuch01", "alice"), { code: "E_NODE_STATE" });
  });

  test("the ledger skips lines that do not parse and reads what another process appended", () => {
    const path = join(tempDir(), "ledger.jsonl");
    const a = new EnrollmentLedger(path);
    a.append({ event: "retired", hostname: "x01", at: 5 });
    appendFileSync(path, 'not json\n{"event":"nope"}\n');
    const b = new EnrollmentLedger(path);
    assert.equal(b.retiredAt("x01"), 5);
    assert.equal(b.skipped, 2);
    b.append({ event: "retired", hostname: "y01", at: 7 });
    a.catchUp();
    assert.equal(a.retiredAt("y01"), 7);
  });
});
