/**
 * The provisioning queue, knocks and first-boot markers on a real three-master Redis Cluster
 * (no ansible: a fake runner). The default prefix's hash tag keeps every key the Lua scripts
 * touch in one slot; an untagged prefix shows what that prevents.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RunAlreadyPendingError } from "../../executors/provision/errors.ts";
import { createFirstBootTrigger } from "../../executors/provision/first-boot.ts";
import { createStaticHostDirectory } from "../../executors/provision/hosts.ts";
import { KnockConsumer, knockKeys, pushKnock } from "../../executors/provision/knocks.ts";
import { networkSet } from "../../executors/provision/net.ts";
import { DEFAULT_REDIS_PREFIX } from "../../executors/provision/options.ts";
import { queueKeys } from "../../executors/provision/queue/keys.ts";
import { ProvisionQueue } from "../../executors/provision/queue/queue.ts";
import type { PlaybookRunner } from "../../executors/provision/runner/run.ts";
import type { ProvisionJobSpec, RunStatus } from "../../executors/provision/types.ts";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, waitReady } from "../../lib/redis.ts";
import { isCluster, type RedisClient } from "../../lib/redis/client.ts";
import { connectUrl } from "../../lib/redis/url.ts";
import { waitFor } from "../harness/ports.ts";
import { startCluster, type TestCluster } from "../harness/redis-cluster.ts";
import { testSealer } from "../harness/seal.ts";

const defaults = { firstBoot: { factKey: "role", map: { web: "web" } } };

const succeeded = { status: "succeeded", message: "ok", durationMs: 1 } as const;
const sealer = testSealer();

function spec(host: string): ProvisionJobSpec {
  return { host, playbook: "web", trigger: "command", check: false, requestedBy: "test" };
}

describe("provisioning on a three-master Redis Cluster", () => {
  let cluster: TestCluster;
  let redis: RedisClient;
  const queues: ProvisionQueue[] = [];

  const newQueue = (run: PlaybookRunner, prefix = DEFAULT_REDIS_PREFIX) => {
    const queue = new ProvisionQueue({
      redis,
      prefix,
      concurrency: 2,
      retries: { max: 2, baseMs: 10, capMs: 20 },
      leaseMs: 1_000,
      run,
      sealer,
      logger: silentLogger,
      pollMs: 20,
    });
    queues.push(queue);
    return queue;
  };

  const final = async (queue: ProvisionQueue, jobId: string): Promise<RunStatus | undefined> => {
    await waitFor(`job ${jobId} final`, async () => {
      const state = (await queue.get(jobId))?.state;
      return state !== undefined && !["pending", "running", "retrying"].includes(state);
    });
    return (await queue.status(jobId)).outcome?.status;
  };

  before(async () => {
    cluster = await startCluster();
    const url = `cluster://${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
    redis = connectUrl({ url, name: "test-provision-cluster", logger: silentLogger });
    await waitReady(redis, url);
  });

  after(async () => {
    for (const q of queues) await q.stop();
    await closeRedis(redis);
    await cluster.stop();
  });

  test("enqueue, claim, retry and finish run atomically in the prefix's one slot", async () => {
    assert.ok(isCluster(redis));
    const attempts = new Map<string, number>();
    const queue = newQueue(async (s) => {
      const n = (attempts.get(s.host) ?? 0) + 1;
      attempts.set(s.host, n);
      const status: RunStatus = s.host === "flaky" && n === 1 ? "unreachable" : "succeeded";
      return { status, message: status, durationMs: 1 };
    });
    const { jobId: ok } = await queue.enqueue(spec("web01"));
    const { jobId: flaky } = await queue.enqueue(spec("flaky"));
    await assert.rejects(queue.enqueue(spec("web01")), RunAlreadyPendingError);
    await queue.start();
    assert.equal(await final(queue, ok), "succeeded");
    assert.equal(await final(queue, flaky), "succeeded");
    assert.equal((await queue.status(flaky)).attempts, 2, "retried once via the delayed set");
    const keys = queueKeys(DEFAULT_REDIS_PREFIX);
    assert.equal(await redis.scard(keys.running), 0);
    assert.equal(await redis.get(keys.host("web01")), null, "the host is free again");
    assert.equal((await queue.enqueue(spec("web01"))).jobId !== ok, true);
  });

  test("a dead worker's running job is recovered by another worker", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const prefix = "{commodore:provision-recover}:";
    const stuck = newQueue(() => gate.then(() => succeeded), prefix);
    const { jobId } = await stuck.enqueue(spec("db01"));
    await stuck.start();
    await waitFor("db01 running", async () => (await stuck.get(jobId))?.state === "running");
    // The worker vanishes without handing the job back: its heartbeat key expires.
    await redis.del(queueKeys(prefix).worker(stuck.workerId));
    const rescuer = newQueue(async () => succeeded, prefix);
    assert.deepEqual(await rescuer.recover(), [jobId]);
    release();
  });

  test("knocks move between their two lists and first-boot markers are set once", async () => {
    const prefix = "{commodore:provision-knocks}:";
    const queue = newQueue(async () => succeeded, prefix);
    await pushKnock(redis, prefix, { ip: "10.9.0.5", playbook: "web", at: "now" }, sealer);
    const consumer = new KnockConsumer({
      redis,
      prefix,
      queue,
      directory: createStaticHostDirectory([]),
      defaults,
      tofuNetworks: networkSet(["10.9.0.0/24"]),
      sealer,
      logger: silentLogger,
    });
    await consumer.drain();
    const lists = knockKeys(prefix);
    assert.equal(await redis.llen(lists.list), 0);
    assert.equal(await redis.llen(lists.processing), 0);
    assert.ok(await queue.activeJobFor("10.9.0.5"), "the knock was queued");

    const trigger = createFirstBootTrigger({
      redis,
      prefix,
      queue,
      defaults,
      logger: silentLogger,
    });
    assert.equal((await trigger({ hostname: "web09", facts: { role: "web" } })).status, "queued");
    assert.deepEqual(await trigger({ hostname: "web09", facts: { role: "web" } }), {
      status: "already-done",
    });
  });

  test("without a hash tag the scripts' keys span slots and Redis refuses them", async () => {
    const queue = newQueue(async () => succeeded, "plain:");
    await assert.rejects(queue.enqueue(spec("web02")), /CROSSSLOT/);
  });
});
