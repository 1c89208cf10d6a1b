/**
 * Provisioning queue entries and knocks written straight into Redis (as `redis-cli` would)
 * never decide what runs: a planted, edited or moved spec is finished as `refused` without the
 * runner being called, counted and logged; untouched entries, concurrent enqueues and knocks
 * sealed by `commodore provision-hook --key` still work.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { Redis } from "ioredis";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { STATE_REJECTED_METRIC } from "../../lib/seal.ts";
import { createStaticHostDirectory, type KnownHost } from "../../executors/provision/hosts.ts";
import { KNOCK_KIND, KnockConsumer, knockKeys } from "../../executors/provision/knocks.ts";
import { networkSet } from "../../executors/provision/net.ts";
import { queueKeys } from "../../executors/provision/queue/keys.ts";
import { ProvisionQueue } from "../../executors/provision/queue/queue.ts";
import { createRedisPins, TOFU_PIN_KIND } from "../../executors/provision/runner/pins.ts";
import type { ProvisionJobSpec, RunOutcome } from "../../executors/provision/types.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { testSealKeyFile, testSealer } from "../harness/seal.ts";
import { makeKey } from "../harness/ssh-keys.ts";

const publicKey = makeKey().publicLine;
const hosts: KnownHost[] = [
  { hostname: "web07", addresses: ["127.0.0.7"], publicKey, facts: { role: "web" } },
  { hostname: "db08", addresses: ["127.0.0.8"], publicKey, facts: { role: "db" } },
];
const succeeded: RunOutcome = { status: "succeeded", message: "ok=1", durationMs: 1 };
const FINAL_STATES = ["succeeded", "failed", "unreachable", "refused", "timeout", "error"];

let server: TestRedis;
let redis: Redis;
/** The attacker's own connection: raw commands, as redis-cli would send them. */
let writer: Redis;
let seq = 0;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  writer = new Redis(server.url);
});
after(async () => {
  redis.disconnect();
  writer.disconnect();
  await server.stop(true);
});

function spec(host: string, playbook = "web"): ProvisionJobSpec {
  return { host, playbook, trigger: "command", check: false, requestedBy: "test" };
}

/** `raw` with its sealed payload changed by `edit` (the MAC left as it was). */
function editPayload(raw: string, edit: (payload: Record<string, unknown>) => void): string {
  const envelope = JSON.parse(raw) as { payload: string };
  const payload = JSON.parse(envelope.payload) as Record<string, unknown>;
  edit(payload);
  return JSON.stringify({ ...envelope, payload: JSON.stringify(payload) });
}

/** A queue on a fresh prefix whose fake runner records every spec it is asked to run. */
function setup(client: Redis = redis) {
  const prefix = `{sq${++seq}}:`;
  const metrics = new MetricsRegistry();
  const sealer = testSealer({ metrics });
  const ran: ProvisionJobSpec[] = [];
  const queue = new ProvisionQueue({
    redis: client,
    prefix,
    concurrency: 2,
    retries: { max: 0, baseMs: 10, capMs: 10 },
    leaseMs: 1_000,
    run: async (s) => {
      ran.push(s);
      return succeeded;
    },
    sealer,
    logger: silentLogger,
    metrics,
    pollMs: 20,
  });
  const keys = queueKeys(prefix);
  return {
    prefix,
    metrics,
    sealer,
    ran,
    queue,
    keys,
    rejected: (kind: string, reason: string) =>
      metrics.counter(STATE_REJECTED_METRIC, "").get({ kind, reason }),
    state: (id: string) => writer.hget(keys.job(id), "state"),
  };
}

async function settled(state: (id: string) => Promise<string | null>, ids: string[]) {
  await waitFor(`${ids.join(", ")} final`, async () => {
    const states = await Promise.all(ids.map(state));
    return states.every((s) => s !== null && FINAL_STATES.includes(s));
  });
}

async function hook(...args: string[]): Promise<{ code: number; stderr: string }> {
  return await new Promise((resolve) => {
    execFile("node", ["bin/commodore.js", "provision-hook", ...args], (err, _out, stderr) => {
      resolve({ code: err ? Number(err.code) : 0, stderr });
    });
  });
}

describe("sealed provisioning queue against a Redis writer", () => {
  test("(f) a planted job is finished as refused and never reaches the runner", async () => {
    const { queue, keys, sealer, ran, rejected, state } = setup();
    const enqueuedAt = new Date().toISOString();
    const plant = async (id: string, storedSpec: string) => {
      await writer.hset(keys.job(id), {
        id,
        spec: storedSpec,
        state: "pending",
        attempts: "0",
        enqueuedAt,
      });
      await writer.rpush(keys.pending, id);
    };
    await plant("prov-99", JSON.stringify(spec("web07", "evil")));
    const forged = {
      v: 1,
      kid: sealer.keyId,
      payload: JSON.stringify(spec("web07", "evil")),
      mac: "A".repeat(43),
    };
    await plant("prov-98", JSON.stringify(forged));
    await plant("prov-97", "not json");
    const { jobId } = await queue.enqueue(spec("web02"));
    await queue.start();
    await settled(state, ["prov-99", "prov-98", "prov-97", jobId]);
    await queue.stop();

    assert.deepEqual(
      ran.map((s) => s.host),
      ["web02"],
    );
    for (const id of ["prov-99", "prov-98", "prov-97"]) {
      assert.equal(await state(id), "refused", id);
      assert.equal(await queue.get(id), undefined, `${id} is not shown as a valid job`);
    }
    assert.equal((await queue.get(jobId))?.outcome?.status, "succeeded");
    assert.ok(rejected("provision-spec", "unsigned") >= 1);
    assert.ok(rejected("provision-spec", "bad_mac") >= 1);
    assert.ok(rejected("provision-spec", "malformed") >= 1);
  });

  test("(f) an edited or moved spec never runs; untouched ones do; outcomes are sealed too", async () => {
    const { queue, keys, ran, rejected, state } = setup();
    const edited = (await queue.enqueue(spec("web01"))).jobId;
    const kept = (await queue.enqueue(spec("web02"))).jobId;
    const target = (await queue.enqueue(spec("web03"))).jobId;
    assert.deepEqual([edited, kept, target], ["prov-1", "prov-2", "prov-3"], "ids stay gapless");

    const raw = await writer.hget(keys.job(edited), "spec");
    assert.ok(raw !== null);
    await writer.hset(
      keys.job(edited),
      "spec",
      editPayload(raw, (p) => {
        p["playbook"] = "evil";
        p["extraVars"] = { app_version: "x" };
      }),
    );
    // Moved: prov-3's hash now holds prov-2's genuine sealed spec.
    const moved = await writer.hget(keys.job(kept), "spec");
    assert.ok(moved !== null);
    await writer.hset(keys.job(target), "spec", moved);

    await queue.start();
    await settled(state, [edited, kept, target]);
    await queue.stop();
    assert.deepEqual(
      ran.map((s) => [s.host, s.playbook]),
      [["web02", "web"]],
    );
    assert.equal(await state(edited), "refused");
    assert.equal(await state(target), "refused");
    assert.equal(rejected("provision-spec", "bad_mac"), 2);
    const message = JSON.parse(
      JSON.parse((await writer.hget(keys.job(edited), "outcome")) ?? "{}").payload,
    ).message;
    assert.match(message, /failed verification \(bad_mac\); not run/);

    const good = await queue.get(kept);
    assert.equal(good?.outcome?.status, "succeeded");
    const outcome = await writer.hget(keys.job(kept), "outcome");
    assert.ok(outcome !== null);
    await writer.hset(
      keys.job(kept),
      "outcome",
      editPayload(outcome, (p) => (p["status"] = "failed")),
    );
    assert.equal(await queue.get(kept), undefined, "an edited outcome is refused");
    assert.equal(rejected("provision-outcome", "bad_mac"), 1);
  });

  test("concurrent enqueues from two processes get gapless ids, each sealed for its own job", async () => {
    const a = setup();
    const other = new Redis(server.url);
    try {
      const b = new ProvisionQueue({
        redis: other,
        prefix: a.prefix,
        concurrency: 1,
        retries: { max: 0, baseMs: 10, capMs: 10 },
        leaseMs: 1_000,
        run: async () => succeeded,
        sealer: testSealer(),
        logger: silentLogger,
      });
      const hostsToQueue = Array.from({ length: 12 }, (_, i) => `h${i}`);
      const queued = await Promise.all(
        hostsToQueue.map((h, i) => (i % 2 === 0 ? a.queue : b).enqueue(spec(h))),
      );
      const ids = queued.map((q) => q.jobId);
      assert.deepEqual(
        [...ids].sort((x, y) => Number(x.slice(5)) - Number(y.slice(5))),
        hostsToQueue.map((_, i) => `prov-${i + 1}`),
      );
      for (const [i, id] of ids.entries()) assert.equal((await a.queue.get(id))?.host, `h${i}`);
      assert.equal(a.rejected("provision-spec", "bad_mac"), 0);
    } finally {
      other.disconnect();
    }
  });

  test("knocks: a playbook counts only when sealed; the hook seals with --key", async () => {
    const { queue, prefix, sealer, metrics, rejected } = setup();
    const consumer = new KnockConsumer({
      redis,
      prefix,
      queue,
      directory: createStaticHostDirectory(hosts),
      defaults: { firstBoot: { factKey: "role", map: { web: "marker" } } },
      tofuNetworks: networkSet([]),
      sealer,
      logger: silentLogger,
      metrics,
    });
    const list = knockKeys(prefix).list;
    await writer.rpush(list, JSON.stringify({ ip: "127.0.0.8", playbook: "evil", at: "now" }));
    const sealed = sealer.seal(KNOCK_KIND, list, {
      ip: "127.0.0.8",
      playbook: "events",
      at: "now",
    });
    await writer.rpush(
      list,
      editPayload(sealed, (p) => (p["playbook"] = "evil")),
    );
    await consumer.drain();
    assert.equal(await queue.activeJobFor("db08"), undefined, "nothing was queued");
    assert.equal(rejected("knock", "unsigned"), 1);
    assert.equal(rejected("knock", "bad_mac"), 1);
    const knocks = metrics.counter("commodore_provision_knocks_total", "");
    assert.equal(knocks.get({ result: "unverified" }), 2);

    const refused = await hook("127.0.0.8", "--playbook", "events", "--redis", server.url);
    assert.equal(refused.code, 64);
    assert.match(refused.stderr, /--playbook for "provision-hook" needs --key/);
    const missing = await hook("127.0.0.8", "--key", "/nonexistent/key", "--redis", server.url);
    assert.equal(missing.code, 78);
    assert.match(missing.stderr, /cannot read key file \/nonexistent\/key/);
    const withKey = await hook(
      "127.0.0.8",
      "--playbook",
      "events",
      "--key",
      testSealKeyFile(),
      "--redis",
      server.url,
      "--prefix",
      prefix,
    );
    assert.equal(withKey.code, 0, withKey.stderr);
    const bare = await hook("127.0.0.7", "--redis", server.url, "--prefix", prefix);
    assert.equal(bare.code, 0, bare.stderr);
    await consumer.drain();
    const jobs = await Promise.all(
      ["db08", "web07"].map(async (h) => {
        const id = await queue.activeJobFor(h);
        return id === undefined ? undefined : await queue.get(id);
      }),
    );
    assert.deepEqual(
      jobs.map((j) => j && [j.host, j.playbook, j.trigger]),
      [
        ["db08", "events", "knock"],
        ["web07", "marker", "knock"],
      ],
    );
    assert.equal(knocks.get({ result: "queued" }), 2);
  });
});

describe("sealed TOFU host-key pins against a Redis writer", () => {
  const key = (line: string) => {
    const [type = "", base64 = ""] = line.split(" ");
    return { type, base64 };
  };
  const first = key(makeKey().publicLine);
  const attacker = key(makeKey().publicLine);

  test("a pin is sealed; a planted, edited or moved pin fails the run closed", async () => {
    const metrics = new MetricsRegistry();
    const prefix = `{tofu${++seq}}:`;
    const pins = createRedisPins(redis, prefix, testSealer({ metrics, logger: silentLogger }));
    assert.deepEqual(await pins.pin("[127.0.0.9]:22", first), first);
    assert.deepEqual(await pins.pin("[127.0.0.9]:22", attacker), first, "the first key stays");
    const sealed = (await writer.get(`${prefix}tofu:[127.0.0.9]:22`)) ?? "";
    assert.ok(!sealed.startsWith("ssh-"), "the pin is not a bare key line");

    await writer.set(`${prefix}tofu:[127.0.0.10]:22`, `${attacker.type} ${attacker.base64}`);
    await assert.rejects(pins.get("[127.0.0.10]:22"), { code: "E_PROVISION_PIN_TAMPERED" });
    await writer.set(`${prefix}tofu:[127.0.0.11]:22`, sealed);
    await assert.rejects(pins.get("[127.0.0.11]:22"), { code: "E_PROVISION_PIN_TAMPERED" });
    await writer.set(`${prefix}tofu:[127.0.0.9]:22`, sealed.replace(first.base64, attacker.base64));
    await assert.rejects(pins.get("[127.0.0.9]:22"), { code: "E_PROVISION_PIN_TAMPERED" });
    const counted = metrics
      .render()
      .split("\n")
      .filter((l) => l.startsWith(STATE_REJECTED_METRIC) && l.includes(`kind="${TOFU_PIN_KIND}"`));
    assert.ok(counted.length >= 2, metrics.render());
  });
});
