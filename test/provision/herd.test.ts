import { createProvisionCallbackRoutes } from "../../transports/http/routes/provision-callback.ts";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { silentLogger } from "../../lib/log.ts";
import { createStaticHostDirectory } from "../../executors/provision/hosts.ts";
import { createProvisioning, type Provisioning } from "../../executors/provision/provisioning.ts";
import type { ProvisionOptions } from "../../executors/provision/options.ts";
import { SPEC_KIND } from "../../executors/provision/queue/codec.ts";
import type { ProvisionJobSpec } from "../../executors/provision/types.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { testSealer } from "../harness/seal.ts";
import { startSshd, type TestSshd } from "../harness/sshd.ts";
import { makeDirs, makeOptions, registered, type Dirs } from "./fixture.ts";
import { nodeRemoteAddress, post, serveCallback } from "./http-client.ts";

const HERD = 20;
const CAP = 4;
const KEY = "herd-key";
const addresses = Array.from({ length: HERD }, (_, i) => `127.0.0.${i + 2}`);
const hostname = (address: string) => `herd-${address.split(".")[3]?.padStart(2, "0")}`;

let sshd: TestSshd;
let server: TestRedis;
let dirs: Dirs;
let options: ProvisionOptions;
const clients: Redis[] = [];
const instances: Provisioning[] = [];
const sealer = testSealer();
const children: (() => Promise<void>)[] = [];
before(async () => {
  server = await startRedis();
  children.push(() => server.stop(true));
  sshd = await startSshd(addresses);
  children.push(() => sshd.stop());
  dirs = makeDirs();
  options = makeOptions(dirs, sshd, {
    concurrency: CAP,
    leaseMs: 1_000,
    retries: { max: 2, baseMs: 500 },
    callback: {
      playbooks: {
        events: { hostConfigKeySha256: createHash("sha256").update(KEY).digest("hex") },
      },
    },
  });
});
after(async () => {
  for (const p of instances) await p.stop().catch(() => undefined);
  for (const c of clients) c.disconnect();
  await Promise.all(children.map((stop) => stop()));
});

// Built lazily: sshd (and its host key) exists only once `before` has run.
const directory = createStaticHostDirectory(() =>
  addresses.map((a) => registered(sshd, hostname(a), a)),
);

/** Most runs of one instance between a start notice and its end notice. */
function noticeOverlap(notices: readonly string[]): number {
  let now = 0;
  let max = 0;
  for (const line of notices) {
    if (/ started \(attempt/.test(line)) max = Math.max(max, ++now);
    else now--;
  }
  return max;
}

function instance(notices: string[]): { provisioning: Provisioning; redis: Redis } {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on("error", () => undefined);
  clients.push(redis);
  const provisioning = createProvisioning({
    options,
    redis,
    directory,
    sealer,
    logger: silentLogger,
    notifier: { notice: (line) => notices.push(line) },
  });
  instances.push(provisioning);
  return { provisioning, redis };
}

interface Event {
  readonly kind: "start" | "end";
  readonly host: string;
  readonly ns: bigint;
}

function events(): Event[] {
  const file = join(dirs.out, "events.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [kind, host, ns] = line.split(" ");
      return { kind: kind as Event["kind"], host: host ?? "", ns: BigInt(ns ?? "0") };
    });
}

/** Most runs between a start and its end at any moment (open runs end at `cutoff`). */
function maxOverlap(all: Event[], cutoff: bigint): number {
  const open = new Map<string, bigint>();
  const marks: { at: bigint; delta: number }[] = [];
  for (const e of [...all].sort((a, b) => (a.ns < b.ns ? -1 : 1))) {
    if (e.kind === "start") open.set(e.host, e.ns);
    else {
      marks.push({ at: open.get(e.host) ?? e.ns, delta: 1 }, { at: e.ns, delta: -1 });
      open.delete(e.host);
    }
  }
  for (const at of open.values()) marks.push({ at, delta: 1 }, { at: cutoff, delta: -1 });
  marks.sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
  let now = 0;
  let max = 0;
  for (const m of marks) max = Math.max(max, (now += m.delta));
  return max;
}

describe("a herd of callbacks against a real sshd with real ansible", () => {
  test(
    "each host provisioned once, never above the cap, nothing lost across a crash",
    { timeout: 240_000 },
    async () => {
      const noticesA: string[] = [];
      const a = instance(noticesA);
      await a.provisioning.start();
      const { url, close } = await serveCallback(
        createProvisionCallbackRoutes({
          callback: a.provisioning.callback,
          remoteAddress: nodeRemoteAddress,
        }),
      );
      const body = JSON.stringify({
        host_config_key: KEY,
        playbook: "events",
        extra_vars: { out_dir: dirs.out },
      });
      const headers = { "content-type": "application/json" };
      // Every host calls back twice at once: one run each, the duplicate is told it is pending.
      const replies = await Promise.all(
        [...addresses, ...addresses].map(async (from) => ({
          from,
          reply: await post(url, from, body, headers),
        })),
      );
      await close();
      const created = replies.filter((r) => r.reply.status === 201);
      assert.equal(created.length, HERD);
      assert.deepEqual(new Set(created.map((r) => r.from)).size, HERD);
      assert.ok(
        replies
          .filter((r) => r.reply.status !== 201)
          .every(
            (r) =>
              r.reply.status === 400 &&
              r.reply.body["msg"] === "Host callback job already pending.",
          ),
      );
      const jobIds = new Map(created.map((r) => [hostname(r.from), String(r.reply.body["id"])]));

      // Crash mid-queue: the Redis connection drops first, then the workers die.
      await waitFor(
        "a few runs done",
        () => events().filter((e) => e.kind === "end").length >= 6,
        120_000,
        100,
      );
      const crashedAt = BigInt(Date.now()) * 1_000_000n; // same clock as `date +%s%N`
      a.redis.disconnect();
      await a.provisioning.stop();
      const probe = new Redis(server.url);
      clients.push(probe);
      const interrupted = new Set<string>();
      for (const id of await probe.smembers(`${options.redisPrefix}running`)) {
        const key = `${options.redisPrefix}job:${id}`;
        const spec = sealer.verify<ProvisionJobSpec>(
          SPEC_KIND,
          key,
          (await probe.hget(key, "spec")) ?? "",
        );
        interrupted.add(spec.ok ? spec.value.host : "");
      }
      assert.ok(interrupted.size > 0, "the crash should interrupt running jobs");

      const noticesB: string[] = [];
      const b = instance(noticesB);
      await b.provisioning.start();
      await waitFor(
        "all jobs final",
        async () => {
          const states = await Promise.all(
            [...jobIds.values()].map(async (id) => (await b.provisioning.queue.get(id))?.state),
          );
          return states.every(
            (s) => s !== undefined && !["pending", "running", "retrying"].includes(s),
          );
        },
        180_000,
        200,
      );

      // Exactly one successful run per host: one per-host log says "result succeeded".
      const all = events();
      for (const [host, id] of jobIds) {
        const job = await b.provisioning.queue.status(id);
        assert.equal(job.state, "succeeded", `${host}: ${job.outcome?.message}`);
        assert.equal(job.host, host);
        const logs = readdirSync(join(dirs.logs, host)).map((f) =>
          readFileSync(join(dirs.logs, host, f), "utf8"),
        );
        assert.equal(logs.filter((l) => l.includes("# result succeeded")).length, 1, host);
        assert.equal(logs.length, interrupted.has(host) ? 2 : 1, `${host} log count`);
        if (!interrupted.has(host)) {
          const kinds = all.filter((e) => e.host === host).map((e) => e.kind);
          assert.deepEqual(kinds, ["start", "end"], `${host} ran more than once`);
        }
      }
      // The cap, measured on the hosts themselves before the crash (after it, commands of the
      // killed runs may still finish remotely) and on the queue's own start/end notices.
      const beforeCrash = all.filter((e) => e.ns < crashedAt);
      assert.ok(maxOverlap(beforeCrash, crashedAt) <= CAP, `more than ${CAP} runs at once`);
      for (const notices of [noticesA, noticesB]) {
        assert.ok(noticeOverlap(notices) <= CAP, `more than ${CAP} runs at once (notices)`);
      }
      const lines = [...noticesA, ...noticesB];
      assert.ok(
        lines.some((l) =>
          /^provision prov-\d+: events on herd-\d\d started \(attempt 1, callback\)$/.test(l),
        ),
      );
      assert.ok(
        lines.some((l) =>
          /^provision prov-\d+: events on herd-\d\d succeeded: ok=1 changed=1/.test(l),
        ),
      );
    },
  );
});
