/**
 * Issue 22's attacks, tried with the credential every agent host has (the `commodore-agent`
 * login of the shipped ACL) against a real redis-server running that ACL, real agents with
 * their own keys and controllers on the bot login that accepted them with signed records. Each
 * attack must fail to change the answer, and the answer must still name the real host:
 *
 * - hiding by impostor: a second agent with its own key registers as an accepted hostname;
 * - hiding by deletion: a loop deleting an accepted host's registry entry and index member;
 * - fleet down: the registry index overwritten with a string;
 * - cost amplification: 10 000 junk entries, one 8 MiB entry;
 * - a dead agent ends `absent`, never dropped;
 * - a filter that matches no accepted host is refused before publishing, by the controller,
 *   the CLI and chat (HTTP: test/http/no-match.test.ts).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { BOT_USER } from "../../app/redis-acl.ts";
import type { BotEvent } from "../../bot/contract.ts";
import { fleetOk, summaryLine } from "../../bot/format/fleet.ts";
import { main } from "../../cli/main.ts";
import { MAX_REGISTRATION_BYTES } from "../../executors/fleet/controller/registry-reader.ts";
import { CommodoreError } from "../../lib/errors.ts";
import type { FleetRequest, FleetResult } from "../../executors/fleet/types.ts";
import {
  aclNames as names,
  startAclFleet,
  warnLines,
  type AclController,
  type AclFleet,
} from "../harness/acl-fleet.ts";
import { testBot, who } from "../harness/bot.ts";
import { stopChild } from "../harness/process.ts";
import { waitFor } from "../harness/ports.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { context, rejected } from "./helpers.ts";

const WEB = { role: "web" };
const DB = { role: "db" };

function ping(c: AclController, where: FleetRequest["where"] = {}): Promise<FleetResult> {
  return c.execute({ provider: "ping", args: [], where }, context());
}

const statuses = (r: FleetResult) => r.hosts.map((h) => [h.hostname, h.status]);

/** A client on the bot login that records what is published on the request channel. */
async function requestSpy(fleet: AclFleet): Promise<{ seen: string[]; close(): void }> {
  const sub = new Redis({
    port: fleet.port,
    host: "127.0.0.1",
    username: BOT_USER,
    password: fleet.server.logins.bot,
  });
  sub.on("error", () => undefined);
  const seen: string[] = [];
  sub.on("message", (_channel: string, message: string) => void seen.push(message));
  await sub.subscribe(names.requests);
  return { seen, close: () => sub.disconnect() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one attack with the agent login: true when Redis let it through, false when the ACL
 * refused it (NOPERM: a tighter ACL is a defence too). Any other error fails the test.
 */
async function attack(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (/NOPERM|EXECABORT/.test(String(err))) return false;
    throw err;
  }
}

describe("hiding by impostor: another key under an accepted hostname changes no answer", () => {
  let fleet: AclFleet;
  let c: AclController;
  before(async () => {
    fleet = await startAclFleet([
      { hostname: "web01", facts: WEB },
      { hostname: "web02", facts: WEB },
    ]);
    c = fleet.controller();
    await fleet.accept(c, ["web01", "web02"]);
  });
  after(() => fleet.stop());

  test("the real web01 answers; the impostor is counted, pending with the reason, and never answers", async () => {
    const real = fleet.agents.get("web01");
    assert.ok(real);
    const impostorKey = makeKey("ed25519", "impostor");
    await fleet.addAgent({ hostname: "web01", facts: WEB, key: impostorKey });

    const result = await ping(c, { hostname: "web01" });
    assert.deepEqual(statuses(result), [["web01", "ok"]]);
    assert.equal(result.hosts[0]?.short, "pong");
    assert.equal(result.summary.expected, 1);
    assert.equal(result.summary.ok, 1);
    assert.ok(fleetOk(result.summary));
    assert.equal(rejected(c.metrics, "controller", "key_mismatch"), 1);
    const waiting = await c.enrollment.unaccepted();
    assert.deepEqual(
      waiting.map((n) => [n.hostname, n.state, n.keyChanged, n.fingerprint]),
      [["web01", "pending", true, impostorKey.fingerprint]],
    );
    assert.match(waiting[0]?.detail ?? "", /key/i);
    assert.match(waiting[0]?.detail ?? "", /accepted/);
    // Listed once, under the real key, however often it is read.
    const nodes = await c.nodes();
    const web01 = nodes.filter((n) => n.hostname === "web01");
    assert.deepEqual(
      web01.map((n) => [n.state, n.fingerprint]),
      [["accepted", real.key.fingerprint]],
    );
    await c.nodes();
    assert.equal(rejected(c.metrics, "controller", "key_mismatch"), 1, "counted once");
    // The impostor did answer; its reply did not verify against the accepted key.
    const refusedReplies = ["bad_signature", "unpinned_key", "pending_key", "key_mismatch"]
      .map((reason) => rejected(c.metrics, "controller", reason))
      .reduce((a, b) => a + b, 0);
    assert.ok(refusedReplies >= 2, `the impostor's reply was refused (${refusedReplies})`);
  });

  test("with the real web01 gone and the impostor left pending, the answer is never 1/1", async () => {
    const real = fleet.agents.get("web01");
    assert.ok(real);
    await real.agent.stop();
    // The impostor writes its registration again (a fresh start), so it is all the bus has.
    await fleet.addAgent({ hostname: "web01", facts: WEB, key: makeKey("ed25519", "impostor2") });
    const one = await ping(c, { hostname: "web01" });
    assert.deepEqual(statuses(one), [["web01", "absent"]]);
    assert.match(one.hosts[0]?.short ?? "", /no heartbeat since/);
    assert.equal(one.summary.ok, 0);
    assert.equal(one.summary.absent, 1);
    assert.equal(fleetOk(one.summary), false);
    assert.doesNotMatch(summaryLine(one), /^1\/1/);
    const web = await ping(c, WEB);
    assert.deepEqual(statuses(web), [
      ["web01", "absent"],
      ["web02", "ok"],
    ]);
    assert.equal(fleetOk(web.summary), false);
  });
});

describe("hiding by deletion and fleet down, with the agent login", () => {
  let fleet: AclFleet;
  let c: AclController;
  before(async () => {
    fleet = await startAclFleet([
      { hostname: "web01", facts: WEB },
      { hostname: "web02", facts: WEB },
      { hostname: "db01", facts: DB },
    ]);
    c = fleet.controller();
    await fleet.accept(c, ["web01", "web02", "db01"]);
  });
  after(() => fleet.stop());

  test("a loop of DEL node:web01 + ZREM nodes web01 during the requests keeps web01 in every answer", async () => {
    let stopped = false;
    let rounds = 0;
    let allowed = 0;
    const loop = (async () => {
      while (!stopped) {
        const del = await attack(() => fleet.attacker.del(names.node("web01")));
        const zrem = await attack(() => fleet.attacker.zrem(names.nodeIndex, "web01"));
        if (del && zrem) allowed++;
        rounds++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      await sleep(50);
      const checks: [FleetRequest["where"], string[]][] = [
        [{ hostname: "web01" }, ["web01"]],
        [WEB, ["web01", "web02"]],
        [{}, ["db01", "web01", "web02"]],
      ];
      for (const [where, hosts] of checks) {
        const before = rounds;
        const r = await ping(c, where);
        assert.deepEqual(
          statuses(r),
          hosts.map((h) => [h, "ok"]),
        );
        assert.equal(r.summary.expected, hosts.length, "never 0/0");
        assert.ok(fleetOk(r.summary));
        assert.ok(rounds > before, "the deletion loop ran during the request");
      }
      // Where the ACL lets the agent login delete, the registry really lacks web01 now.
      if (allowed > 0) assert.equal(await fleet.admin.exists(names.node("web01")), 0);
      // What controllers keep is out of the agent login's reach.
      assert.equal(await attack(() => fleet.attacker.del(names.lastKnown)), false);
      assert.equal(await attack(() => fleet.attacker.hset(names.lastKnown, "web01", "x")), false);
      const nodes = await c.nodes();
      assert.deepEqual(
        nodes.map((n) => n.hostname),
        ["db01", "web01", "web02"],
      );
      // A controller started now (a bot restart, another replica) has never seen web01 live,
      // and still expects it from what controllers keep.
      const fresh = fleet.controller();
      const r = await ping(fresh, { hostname: "web01" });
      assert.deepEqual(statuses(r), [["web01", "ok"]]);
    } finally {
      stopped = true;
      await loop;
    }
    assert.ok(rounds > 10, `${rounds} deletion rounds`);
  });

  test("SET nodes garbage: nodes() and fleet commands work and name every accepted host", async () => {
    const all = ["db01", "web01", "web02"];
    const garbage = () => attack(() => fleet.attacker.set(names.nodeIndex, "garbage"));
    const malformed = () => rejected(c.metrics, "controller", "malformed_registry");
    const before = malformed();
    const allowed = await garbage();
    const nodes = await c.nodes();
    assert.deepEqual(
      nodes.map((n) => [n.hostname, n.state]),
      all.map((h) => [h, "accepted"]),
    );
    if (allowed) assert.ok(malformed() > before, "counted as malformed_registry");
    await garbage();
    assert.deepEqual(
      statuses(await ping(c)),
      all.map((h) => [h, "ok"]),
    );
    await garbage();
    assert.deepEqual(statuses(await ping(c, WEB)), [
      ["web01", "ok"],
      ["web02", "ok"],
    ]);
    // One host's entry turned into a sorted set, listed in the index.
    const wrongType = malformed();
    const retyped =
      (await attack(() => fleet.attacker.del(names.node("web02")))) &&
      (await attack(() => fleet.attacker.zadd(names.node("web02"), 1, "x"))) &&
      (await attack(() => fleet.attacker.zadd(names.nodeIndex, Date.now(), "web02")));
    assert.deepEqual(statuses(await ping(c, WEB)), [
      ["web01", "ok"],
      ["web02", "ok"],
    ]);
    if (retyped) assert.ok(malformed() > wrongType, "the retyped entry is counted");
    // A controller started while the index is garbage (a bot restart) lists every host too.
    const fresh = fleet.controller();
    await garbage();
    assert.deepEqual(
      (await fresh.nodes()).map((n) => n.hostname),
      all,
    );
    assert.deepEqual(
      statuses(await ping(fresh)),
      all.map((h) => [h, "ok"]),
    );
  });
});

describe("cost amplification with the agent login", () => {
  const all = ["db01", "web01", "web02"];
  let fleet: AclFleet;
  let c: AclController;
  let baselineMs = 0;
  before(async () => {
    fleet = await startAclFleet([
      { hostname: "web01", facts: WEB },
      { hostname: "web02", facts: WEB },
      { hostname: "db01", facts: DB },
    ]);
    c = fleet.controller({ ackTimeoutMs: 800 });
    await fleet.accept(c, all);
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const r = await ping(c);
      baselineMs = Math.max(baselineMs, performance.now() - t);
      assert.equal(r.summary.ok, 3);
    }
  });
  after(() => fleet.stop());

  const outputBytes = async () => {
    const info = await fleet.admin.info("stats");
    return Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1]);
  };
  /** One timed ping of every host, with the bytes Redis sent meanwhile. */
  const timedPing = async () => {
    const sent = await outputBytes();
    const t = performance.now();
    const r = await ping(c);
    const tookMs = performance.now() - t;
    return { r, tookMs, bytes: (await outputBytes()) - sent };
  };
  const MIB = 1024 * 1024;

  test("an 8 MiB entry (and an accepted host's entry made 8 MiB) is refused by size, unread, and slows nothing", async () => {
    const big = "x".repeat(8 * MIB);
    assert.ok(big.length > MAX_REGISTRATION_BYTES);
    const oversize = () => rejected(c.metrics, "controller", "oversize");
    const before = oversize();
    let written = 0;
    for (const host of ["big", "web02"]) {
      const ok =
        (await attack(() => fleet.attacker.set(names.node(host), big))) &&
        (await attack(() => fleet.attacker.zadd(names.nodeIndex, Date.now(), host)));
      if (ok) written++;
    }
    const { r, tookMs, bytes } = await timedPing();
    assert.deepEqual(
      statuses(r),
      all.map((h) => [h, "ok"]),
    );
    assert.ok(bytes < MIB, `Redis sent ${bytes} bytes for one request`);
    assert.ok(
      tookMs < 2 * baselineMs + 300,
      `${Math.round(tookMs)} ms against ${Math.round(baselineMs)} ms`,
    );
    assert.equal(oversize() - before, written, "each refused by its size");
    const sentAgain = await outputBytes();
    await c.nodes();
    assert.ok((await outputBytes()) - sentAgain < MIB, "not fetched on the next read");
    assert.equal(oversize() - before, written, "counted once");
  });

  test("a 100 KiB index member (and a key by that name) is removed unread: no stall, no huge log line", async () => {
    // Longer than any hostname. Logged, such a name costs the logger's URL redaction time
    // quadratic in its length (100 KiB: about 10 s of one core; 8 MiB: hours).
    const name = "h".repeat(100 * 1024);
    const written =
      (await attack(() => fleet.attacker.set(names.node(name), "junk"))) &&
      (await attack(() => fleet.attacker.zadd(names.nodeIndex, Date.now(), name)));
    const lines = c.logLines.length;
    const first = await timedPing();
    assert.deepEqual(
      statuses(first.r),
      all.map((h) => [h, "ok"]),
    );
    // The first read receives the member once (that is how Redis answers ZREVRANGE) and removes it.
    assert.ok(
      first.tookMs < 2 * baselineMs + 1_000,
      `${Math.round(first.tookMs)} ms against ${Math.round(baselineMs)} ms`,
    );
    const next = await timedPing();
    assert.deepEqual(
      statuses(next.r),
      all.map((h) => [h, "ok"]),
    );
    assert.ok(next.bytes < MIB, `the member is gone (${next.bytes} bytes sent)`);
    assert.ok(
      next.tookMs < 2 * baselineMs + 300,
      `${Math.round(next.tookMs)} ms against ${Math.round(baselineMs)} ms`,
    );
    const logged = c.logLines.slice(lines);
    assert.ok(
      logged.every((l) => l.length < 16 * 1024),
      "no log line carries the member",
    );
    if (written) assert.equal(await fleet.admin.zscore(names.nodeIndex, name), null);
  });

  test("10 000 junk entries: requests complete correctly, a bounded number of warn lines", async () => {
    const BATCH = 1_000;
    let written = true;
    for (let i = 0; i < 10_000 && written; i += BATCH) {
      const pipe = fleet.attacker.pipeline();
      for (let j = i; j < i + BATCH; j++) {
        pipe.set(names.node(`junk${j}`), randomBytes(48).toString("base64"));
        pipe.zadd(names.nodeIndex, Date.now(), `junk${j}`);
      }
      const results = (await pipe.exec()) ?? [];
      written = results.every(([err]) => err === null);
      if (!written)
        assert.ok(
          results.every(([err]) => /NOPERM/.test(String(err))),
          "written, or refused by the ACL",
        );
    }
    const linesBefore = c.logLines.length;
    const refusedBefore = rejected(c.metrics, "controller", "malformed_json");
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      const r = await ping(c);
      const tookMs = performance.now() - t;
      assert.deepEqual(
        statuses(r),
        all.map((h) => [h, "ok"]),
      );
      assert.ok(tookMs < 2 * baselineMs + 1_500, `${Math.round(tookMs)} ms`);
      const nodes = await c.nodes();
      assert.deepEqual(
        nodes.filter((n) => n.state === "accepted").map((n) => n.hostname),
        all,
      );
    }
    const refused = rejected(c.metrics, "controller", "malformed_json") - refusedBefore;
    if (written) assert.ok(refused >= 1_000, `junk was read and refused (${refused})`);
    const warns = warnLines(c.logLines.slice(linesBefore));
    assert.ok(warns.length <= 10, `${warns.length} warn lines for ${refused} refusals`);
  });
});

describe("a dead agent", () => {
  let fleet: AclFleet;
  let c: AclController;
  before(async () => {
    fleet = await startAclFleet([{ hostname: "web01", facts: WEB }]);
    // A registration is believed until its own lifetime plus the clock skew is over: a small
    // skew keeps the test short.
    c = fleet.controller({ clockSkewMs: 300 });
  });
  after(() => fleet.stop());

  test("killed without deregistering, its registration lapses: listed absent, ends absent, not allOk", async () => {
    const { child } = await fleet.spawnAgent({
      hostname: "db09",
      facts: DB,
      heartbeatMs: 200,
      registrationTtlMs: 1_000,
    });
    await fleet.accept(c, ["web01", "db09"]);
    const live = await ping(c);
    assert.deepEqual(statuses(live), [
      ["db09", "ok"],
      ["web01", "ok"],
    ]);
    await stopChild(child, "SIGKILL");
    // Killed, its registration not yet lapsed: awaited, silent, not ok.
    const silent = await ping(c, DB);
    assert.deepEqual(statuses(silent), [["db09", "no_ack"]]);
    assert.equal(fleetOk(silent.summary), false);
    await waitFor(
      "db09's registration to lapse",
      async () => (await c.nodes()).find((n) => n.hostname === "db09")?.absent === true,
      5_000,
      100,
    );
    const node = (await c.nodes()).find((n) => n.hostname === "db09");
    assert.equal(node?.state, "accepted");
    assert.match(node?.detail ?? "", /^no heartbeat since \d{4}-/);
    assert.equal(node?.facts["role"], "db");
    const r = await ping(c);
    assert.deepEqual(statuses(r), [
      ["db09", "absent"],
      ["web01", "ok"],
    ]);
    assert.equal(r.summary.absent, 1);
    assert.equal(r.summary.ok, 1);
    assert.equal(fleetOk(r.summary), false);
    assert.match(summaryLine(r), /^1\/2 hosts ok .*1 absent/);
    // Still a match by its last known facts: the filter names it, the answer says it is gone.
    const db = await ping(c, DB);
    assert.deepEqual(statuses(db), [["db09", "absent"]]);
    assert.equal(fleetOk(db.summary), false);
  });
});

describe("no match is refused before publishing (controller, CLI, chat)", () => {
  let fleet: AclFleet;
  let c: AclController;
  let spy: Awaited<ReturnType<typeof requestSpy>>;
  before(async () => {
    fleet = await startAclFleet([
      { hostname: "web01", facts: WEB },
      { hostname: "db01", facts: DB },
    ]);
    c = fleet.controller({ ackTimeoutMs: 800 });
    await fleet.accept(c, ["web01", "db01"]);
    spy = await requestSpy(fleet);
    // The spy sees what a matching request publishes.
    const r = await ping(c, WEB);
    assert.deepEqual(statuses(r), [["web01", "ok"]]);
    await waitFor("the spy to see the request", () => spy.seen.length === 1);
  });
  after(async () => {
    spy.close();
    await fleet.stop();
  });

  test("controller.execute: E_NO_MATCH at once with a did-you-mean, nothing published", async () => {
    const t = performance.now();
    const err = await ping(c, { rol: "web" }).then(
      () => assert.fail("a request matching nothing was answered"),
      (e: unknown) => e,
    );
    const tookMs = performance.now() - t;
    assert.ok(err instanceof CommodoreError);
    assert.equal(err.code, "E_NO_MATCH");
    assert.match(err.message, /no accepted host matches rol=web/);
    assert.doesNotMatch(err.message, /\bok\b/);
    assert.match(err.hint ?? "", /did you mean role=web\?/);
    assert.ok(tookMs < 400, `refused in ${Math.round(tookMs)} ms, no ack wait`);
    await sleep(200);
    assert.equal(spy.seen.length, 1, "nothing published");
  });

  test("CLI: `commodore fleet ping --where rol=web` exits 2 at once, the message on stderr", async () => {
    let stdout = "";
    let stderr = "";
    const t = performance.now();
    const code = await main(
      [
        "fleet",
        "ping",
        "--where",
        "rol=web",
        "--redis",
        fleet.server.url("bot"),
        "--key",
        fleet.controllerKey.privatePath,
        "--principal",
        "ops",
        "--ack-timeout",
        "5000",
      ],
      {
        stdout: (s) => void (stdout += s),
        stderr: (s) => void (stderr += s),
        env: {},
        signal: new AbortController().signal,
      },
    );
    const tookMs = performance.now() - t;
    assert.equal(code, 2, stderr);
    assert.ok(tookMs < 2_500, `exited after ${Math.round(tookMs)} ms (ack timeout 5000 ms)`);
    assert.match(stderr, /no accepted host matches rol=web/);
    assert.match(stderr, /did you mean role=web\?/);
    assert.match(stderr, /E_NO_MATCH/);
    assert.doesNotMatch(stdout, /hosts ok/);
    await sleep(200);
    assert.equal(spy.seen.length, 1, "nothing published");
  });

  test("chat: `fleet ping where rol=web` is an E_NO_MATCH error event, no result", async () => {
    const redis = new Redis(fleet.server.url("bot"));
    const bot = testBot(
      { roles: { reader: { grants: [{ command: "fleet" }] } }, bot: { defaultRoles: ["reader"] } },
      redis,
      c,
    );
    try {
      const events: BotEvent[] = await bot.run(who("anyone"), "fleet ping where rol=web");
      const error = events.find((e) => e.type === "error");
      assert.ok(error?.type === "error", JSON.stringify(events));
      assert.equal(error.code, "E_NO_MATCH");
      assert.match(error.message, /no accepted host matches rol=web/);
      assert.match(error.hint ?? "", /did you mean role=web\?/);
      assert.ok(!events.some((e) => e.type === "result"), "no result event");
      await sleep(200);
      assert.equal(spy.seen.length, 1, "nothing published");
    } finally {
      await bot.close();
      redis.disconnect();
    }
  });
});
