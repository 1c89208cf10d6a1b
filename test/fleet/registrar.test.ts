/**
 * The registrations channel under attack, with the agent login of the shipped ACL: what is
 * left to an agent host once it may write no registry key. An agent may only announce, and
 * controllers check every announcement before storing it (controller/registrar.ts):
 * another key under an accepted hostname, a replayed old announcement, an oversized one and
 * a flood of junk change no answer and cost no more than a parse each. Real redis-server with
 * the ACL, real agents with their own keys.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sealRegistration } from "../../executors/fleet/agent/registration.ts";
import { MAX_REGISTRATION_BYTES } from "../../executors/fleet/controller/registry-reader.ts";
import {
  ACCEPTED_PER_HOST_BURST,
  MAX_PENDING_HOSTS,
} from "../../executors/fleet/controller/registrar.ts";
import { sshsigSigner } from "../../executors/fleet/protocol/auth.ts";
import { REGISTRATION_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import { loadPrivateKey } from "../../executors/fleet/protocol/keys.ts";
import type { FleetResult } from "../../executors/fleet/types.ts";
import {
  aclNames as names,
  startAclFleet,
  warnLines,
  type AclController,
  type AclFleet,
} from "../harness/acl-fleet.ts";
import { waitFor } from "../harness/ports.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { context, rejected } from "./helpers.ts";

const TTL_MS = 30_000;

function ping(c: AclController): Promise<FleetResult> {
  return c.execute({ provider: "ping", args: [], where: {} }, context());
}

describe("registrations channel: an agent login announces, controllers decide", () => {
  let fleet: AclFleet;
  let c: AclController;
  const attackerKey = makeKey("ed25519", "attacker");
  const signer = sshsigSigner(loadPrivateKey(attackerKey.privatePath), REGISTRATION_NAMESPACE);
  const announce = (hostname: string, facts: Record<string, string>, sentAt = Date.now()) =>
    fleet.attacker.publish(
      names.registrations,
      sealRegistration(
        signer,
        { hostname, facts, publicKey: attackerKey.publicLine, version: "evil", ttlMs: TTL_MS },
        sentAt,
      ),
    );

  before(async () => {
    fleet = await startAclFleet([
      { hostname: "web01", facts: { role: "web" } },
      { hostname: "db01", facts: { role: "db" } },
    ]);
    c = fleet.controller({ ackTimeoutMs: 800 });
    await fleet.accept(c, ["db01", "web01"]);
    assert.equal((await ping(c)).summary.ok, 2);
  });
  after(() => fleet.stop());

  test("another key announcing an accepted hostname is counted, pending, and never stored over it", async () => {
    const stored = await fleet.admin.get(names.node("web01"));
    await announce("web01", { role: "db" });
    await announce("web01", { role: "db" });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await fleet.admin.get(names.node("web01")), stored, "the entry is web01's own");
    assert.equal(rejected(c.metrics, "controller", "key_mismatch"), 1, "counted once");
    const pending = await c.enrollment.unaccepted();
    assert.deepEqual(
      pending.map((n) => [n.hostname, n.fingerprint, n.keyChanged]),
      [["web01", attackerKey.fingerprint, true]],
    );
    const r = await c.execute(
      { provider: "ping", args: [], where: { hostname: "web01" } },
      context(),
    );
    assert.deepEqual(
      r.hosts.map((h) => [h.hostname, h.status]),
      [["web01", "ok"]],
    );
  });

  test("a replayed old announcement is refused as stale; an oversized one is refused unparsed", async () => {
    await announce("new01", { role: "web" }, Date.now() - 10 * 60_000);
    await fleet.attacker.publish(names.registrations, "x".repeat(MAX_REGISTRATION_BYTES + 1));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(rejected(c.metrics, "controller", "stale_registration") >= 1);
    assert.ok(rejected(c.metrics, "controller", "oversize") >= 1);
    assert.equal(await fleet.admin.exists(names.node("new01")), 0);
  });

  test("forged announcements naming an accepted host with its public key: a few checks each, answers true", async () => {
    const web01 = fleet.agents.get("web01");
    assert.ok(web01);
    const before = rejected(c.metrics, "controller", "backlog_full");
    const badBefore = rejected(c.metrics, "controller", "bad_signature");
    // Signed by the attacker's key, but naming web01 and web01's public key.
    const forged = sealRegistration(
      signer,
      {
        hostname: "web01",
        facts: { role: "db" },
        publicKey: web01.key.publicLine,
        version: "evil",
        ttlMs: TTL_MS,
      },
      Date.now(),
    );
    const FORGED = 200;
    await Promise.all(
      Array.from({ length: FORGED }, () => fleet.attacker.publish(names.registrations, forged)),
    );
    await waitFor(
      "the forgeries dropped or refused",
      () =>
        rejected(c.metrics, "controller", "backlog_full") -
          before +
          rejected(c.metrics, "controller", "bad_signature") -
          badBefore >=
        FORGED,
    );
    const checked = rejected(c.metrics, "controller", "bad_signature") - badBefore;
    assert.ok(checked <= ACCEPTED_PER_HOST_BURST + 2, `${checked} signatures checked`);
    const r = await c.execute({ provider: "ping", args: [], where: { role: "web" } }, context());
    assert.deepEqual(
      r.hosts.map((h) => [h.hostname, h.status]),
      [["web01", "ok"]],
    );
  });

  test("a planted registrar mark (no census) and an emptied registry change no answer", async () => {
    // A Redis writer with more than the agent login: the mark says a registrar is live, so a
    // new controller asks for no census, and the registry it would read is gone.
    await fleet.admin.set(names.registrar, "planted", "PX", 60_000);
    await fleet.admin.del(names.nodeIndex, names.node("web01"), names.node("db01"));
    const cli = fleet.controller({ ackTimeoutMs: 800, census: "unless-live" });
    const r = await ping(cli);
    assert.deepEqual(
      r.hosts.map((h) => [h.hostname, h.status]),
      [
        ["db01", "ok"],
        ["web01", "ok"],
      ],
    );
  });

  test("a flood of junk announcements: a bounded registry, a bounded log, every answer true", async () => {
    const warnBefore = warnLines(c.logLines).length;
    const FLOOD = MAX_PENDING_HOSTS + 1_000;
    const sends: Promise<number>[] = [];
    for (let i = 0; i < FLOOD; i++) sends.push(announce(`junk${i}`, { role: "web" }));
    await Promise.all(sends);
    // Checked as they arrive; once MAX_PENDING_HOSTS wait for an operator, the rest are dropped.
    await waitFor(
      "the flood checked",
      () => rejected(c.metrics, "controller", "backlog_full") >= FLOOD - MAX_PENDING_HOSTS,
    );
    const stored = await fleet.admin.zcard(names.nodeIndex);
    assert.ok(stored <= 2 + MAX_PENDING_HOSTS, `${stored} index entries`);
    assert.ok((await c.enrollment.unaccepted()).length <= MAX_PENDING_HOSTS + 1);
    assert.ok(
      warnLines(c.logLines).length - warnBefore <= 10,
      "a rate-limited summary, not a line each",
    );
    const r = await ping(c);
    assert.deepEqual(
      r.hosts.map((h) => [h.hostname, h.status]),
      [
        ["db01", "ok"],
        ["web01", "ok"],
      ],
    );
  });
});
