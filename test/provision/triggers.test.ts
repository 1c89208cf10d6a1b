import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { Redis } from "ioredis";
import { silentLogger } from "../../lib/log.ts";
import { createProvisionExecutor } from "../../executors/provision/executor.ts";
import { createFirstBootTrigger } from "../../executors/provision/first-boot.ts";
import { createStaticHostDirectory, type KnownHost } from "../../executors/provision/hosts.ts";
import { KnockConsumer, knockKeys, pushKnock } from "../../executors/provision/knocks.ts";
import { networkSet } from "../../executors/provision/net.ts";
import { ProvisionQueue } from "../../executors/provision/queue/queue.ts";
import type { PlaybookDefaults } from "../../executors/provision/playbooks.ts";
import type { ProvisionProgress, RunOutcome } from "../../executors/provision/types.ts";
import { createSpecValidator } from "../../executors/provision/validate.ts";
import { freePort } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { testSealKeyFile, testSealer } from "../harness/seal.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { makeDirs, type Dirs } from "./fixture.ts";

const publicKey = makeKey().publicLine;
const hosts: KnownHost[] = [
  { hostname: "web07", addresses: ["127.0.0.7"], publicKey, facts: { role: "web" } },
  { hostname: "db08", addresses: ["127.0.0.8"], publicKey, facts: { role: "db" } },
];
const defaults: PlaybookDefaults = { firstBoot: { factKey: "role", map: { web: "marker" } } };

let server: TestRedis;
let redis: Redis;
let dirs: Dirs;
let seq = 0;
const sealer = testSealer();
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  dirs = makeDirs();
});
after(async () => {
  redis.disconnect();
  await server.stop(true);
});

function newQueue(
  run = async (): Promise<RunOutcome> => ({ status: "succeeded", message: "ok=1", durationMs: 5 }),
) {
  const prefix = `{tr${++seq}}:`;
  const queue = new ProvisionQueue({
    redis,
    prefix,
    concurrency: 2,
    retries: { max: 1, baseMs: 10, capMs: 10 },
    leaseMs: 1_000,
    run,
    sealer,
    logger: silentLogger,
    validate: createSpecValidator({ playbookDir: dirs.playbooks, extraVarsAllowList: [] }),
    pollMs: 20,
  });
  return { queue, prefix };
}

async function hook(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await new Promise((resolve) => {
    execFile("node", ["bin/commodore.js", "provision-hook", ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

describe("knock hook and consumer", () => {
  test("the CLI records a knock and exits 0; bad input and a dead Redis exit non-zero", async () => {
    const { prefix } = newQueue();
    const ok = await hook("127.0.0.7", "--redis", server.url, "--prefix", prefix);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "queued provisioning request for 127.0.0.7\n");
    const [raw] = await redis.lrange(knockKeys(prefix).list, 0, -1);
    assert.equal(JSON.parse(raw ?? "{}").ip, "127.0.0.7");

    const v6 = await hook(
      "::FFFF:127.0.0.8",
      "--redis",
      server.url,
      "--prefix",
      prefix,
      "--playbook",
      "events",
      "--key",
      testSealKeyFile(),
    );
    assert.equal(v6.code, 0, v6.stderr);
    const bad = await hook("127.0.0.300", "--redis", server.url);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /<ip> for "provision-hook" must be an IPv4 or IPv6 address/);
    const traversal = await hook("127.0.0.7", "--playbook", "../x", "--redis", server.url);
    assert.equal(traversal.code, 64);
    const untagged = await hook("127.0.0.7", "--prefix", "tr:", "--redis", server.url);
    assert.equal(untagged.code, 64);
    assert.match(untagged.stderr, /--prefix .*hash tag/);
    const down = await hook("127.0.0.7", "--redis", `redis://127.0.0.1:${await freePort()}`);
    assert.equal(down.code, 69);
    assert.match(down.stderr, /could not record the knock from 127\.0\.0\.7 .*ECONNREFUSED/);
  });

  test("the consumer queues knocks of registered hosts and TOFU networks, drops the rest", async () => {
    const { queue, prefix } = newQueue();
    const consumer = new KnockConsumer({
      redis,
      prefix,
      queue,
      directory: createStaticHostDirectory(hosts),
      defaults,
      tofuNetworks: networkSet(["127.0.1.0/24"]),
      sealer,
      logger: silentLogger,
    });
    // A knock naming a playbook is sealed, as `provision-hook --playbook … --key …` writes it.
    const knock = (ip: string, playbook?: string) =>
      pushKnock(
        redis,
        prefix,
        { ip, at: "now", ...(playbook ? { playbook } : {}) },
        playbook ? sealer : undefined,
      );
    await knock("127.0.0.7"); // web07: role web → marker
    await knock("127.0.0.7"); // duplicate while pending: no second job
    await knock("127.0.0.8"); // db08: no mapping, no default → dropped
    await knock("127.0.0.8", "events"); // explicit playbook → queued
    await knock("127.0.0.99", "marker"); // nobody → dropped
    await knock("127.0.1.5", "marker"); // TOFU network → queued by address
    await redis.rpush(knockKeys(prefix).list, "not json");
    await consumer.drain();
    assert.equal(await redis.llen(knockKeys(prefix).list), 0);
    assert.equal(await redis.llen(knockKeys(prefix).processing), 0);
    const jobs = await Promise.all(
      ["web07", "db08", "127.0.1.5", "127.0.0.99"].map(async (h) => {
        const id = await queue.activeJobFor(h);
        return id === undefined ? undefined : await queue.status(id);
      }),
    );
    assert.deepEqual(
      jobs.map((j) => j && [j.host, j.address, j.playbook, j.trigger]),
      [
        ["web07", "127.0.0.7", "marker", "knock"],
        ["db08", "127.0.0.8", "events", "knock"],
        ["127.0.1.5", "127.0.1.5", "marker", "knock"],
        undefined,
      ],
    );
    assert.equal(await redis.get(`${prefix}seq`), "3");
  });

  test("knocks left in processing by a dead consumer are handled after a restart", async () => {
    const { queue, prefix } = newQueue();
    await redis.rpush(
      knockKeys(prefix).processing,
      JSON.stringify({ ip: "127.0.0.7", at: "then" }),
    );
    const consumer = new KnockConsumer({
      redis,
      prefix,
      queue,
      directory: createStaticHostDirectory(hosts),
      defaults,
      tofuNetworks: networkSet([]),
      sealer,
      logger: silentLogger,
      pollMs: 10,
    });
    await consumer.start();
    await consumer.drain();
    await consumer.stop();
    assert.ok(await queue.activeJobFor("web07"));
  });
});

describe("first boot", () => {
  test("a registration whose facts map to a playbook is provisioned once per host", async () => {
    const { queue, prefix } = newQueue();
    const trigger = createFirstBootTrigger({
      redis,
      prefix,
      queue,
      defaults,
      logger: silentLogger,
    });
    const first = await trigger({ hostname: "web07", facts: { role: "web" } });
    assert.equal(first.status, "queued");
    assert.deepEqual(await trigger({ hostname: "web07", facts: { role: "web" } }), {
      status: "already-done",
    });
    assert.deepEqual(await trigger({ hostname: "db08", facts: { role: "db" } }), {
      status: "no-playbook",
    });
    assert.equal(await redis.get(`${prefix}seq`), "1");
    await assert.rejects(
      trigger({ hostname: "../etc", facts: { role: "web" } }),
      /neither a hostname/,
    );
  });

  test("a failed enqueue leaves no marker, so the next registration tries again", async () => {
    const { queue, prefix } = newQueue();
    const broken = {
      ...defaults,
      firstBoot: { factKey: "role", map: { web: "missing-playbook" } },
    };
    const trigger = createFirstBootTrigger({
      redis,
      prefix,
      queue,
      defaults: broken,
      logger: silentLogger,
    });
    await assert.rejects(
      trigger({ hostname: "web07", facts: { role: "web" } }),
      /playbook "missing-playbook"/,
    );
    assert.equal(await redis.exists(`${prefix}firstboot:web07`), 0);
  });
});

describe("provision executor", () => {
  test("queues the command, reports progress and resolves with the recap", async () => {
    const { queue } = newQueue(async () => ({
      status: "succeeded",
      message: "ok=1 changed=1 unreachable=0 failed=0 skipped=0",
      recap: { ok: 1, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
      durationMs: 5,
    }));
    await queue.start();
    const executor = createProvisionExecutor({
      queue,
      directory: createStaticHostDirectory(hosts),
      defaults,
      followMs: 20,
    });
    const events: ProvisionProgress[] = [];
    const context = {
      jobId: "bot-1",
      principalId: "alice",
      signal: new AbortController().signal,
      progress: (e: ProvisionProgress) => events.push(e),
    };
    const result = await executor.execute({ host: "127.0.0.7", check: true }, context);
    await queue.stop();
    assert.equal(result.status, "succeeded");
    assert.equal(result.host, "web07");
    assert.equal(result.playbook, "marker");
    assert.equal(result.check, true);
    assert.equal(result.recap?.changed, 1);
    assert.deepEqual(events[0], { type: "queued", jobId: result.jobId, host: "web07" });
    const job = await queue.status(result.jobId);
    assert.equal(job.requestedBy, "alice");
    await assert.rejects(executor.execute({ host: "db08" }, context), /no playbook given for db08/);
    await executor.close();
  });
});
