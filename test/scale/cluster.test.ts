import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fleetNames } from "../../executors/fleet/protocol/channels.ts";
import type { JobLiveMessage } from "../../bot/jobs/types.ts";
import type { BotEvent } from "../../bot/contract.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { closeRedis, waitReady } from "../../lib/redis.ts";
import { isCluster, type RedisClient } from "../../lib/redis/client.ts";
import { createBus } from "../../lib/redis/bus.ts";
import { connectUrl } from "../../lib/redis/url.ts";
import { JobLiveHub } from "../../transports/http/status/live.ts";
import { testBot, who } from "../harness/bot.ts";
import { waitFor } from "../harness/ports.ts";
import { startCluster, type TestCluster } from "../harness/redis-cluster.ts";
import { withProbe } from "../harness/redis-proc.ts";
import { scaleFleet, type ScaleFleet } from "../harness/scale-fleet.ts";

const CONFIG = { roles: { admin: { grants: [{ command: "*" }] } } };
const root = who("root", ["admin"]);

/** Sum of `PUBSUB <kind> channel` over every master. */
async function subscribers(cluster: TestCluster, kind: "SHARDNUMSUB" | "NUMSUB", channel: string) {
  let total = 0;
  for (const n of cluster.nodes) {
    const reply = await withProbe(n.port, (r) => r.call("PUBSUB", kind, channel));
    total += Number((reply as unknown[])[1]);
  }
  return total;
}

describe("three-master Redis Cluster", () => {
  let cluster: TestCluster;
  let url: string;
  let fleet: ScaleFleet;
  let redis: RedisClient;

  before(async () => {
    cluster = await startCluster();
    url = `cluster://${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
    fleet = scaleFleet(url);
    await fleet.addAgent("www1", { role: "web" });
    await fleet.addAgent("www2", { role: "web" });
    await fleet.addAgent("db1", { role: "db" });
    redis = connectUrl({ url, name: "test-cluster", logger: silentLogger });
    await waitReady(redis, url);
  });

  after(async () => {
    await fleet.stop();
    await closeRedis(redis);
    await cluster.stop();
  });

  test("agents listen with sharded pub/sub, not cluster-wide SUBSCRIBE", async () => {
    assert.ok(isCluster(redis));
    const requests = fleetNames().requests;
    assert.equal(await subscribers(cluster, "SHARDNUMSUB", requests), 3);
    assert.equal(await subscribers(cluster, "NUMSUB", requests), 0);
  });

  test("a fleet request round-trips through the cluster", async () => {
    const controller = fleet.controller();
    assert.deepEqual(await controller.expectedHosts({ role: "web" }), ["www1", "www2"]);
    const result = await controller.execute(
      { provider: "ping", args: [], where: {} },
      {
        jobId: "j1",
        principalId: "root",
        signal: AbortSignal.timeout(10_000),
        progress: () => undefined,
      },
    );
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      [
        ["db1", "ok"],
        ["www1", "ok"],
        ["www2", "ok"],
      ],
    );
  });

  test("the bot's jobs, audit stream, confirmations and live events work on the cluster", async () => {
    const bot = testBot(CONFIG, redis, fleet.controller());
    const events: BotEvent[] = [];
    await bot.bot.handle(
      { principal: root, transport: "cli", text: "fleet ping where role=web" },
      (e) => events.push(e),
    );
    const accepted = events.find((e) => e.type === "accepted");
    assert.ok(accepted && accepted.type === "accepted", JSON.stringify(events));
    const job = await bot.jobs.get(accepted.jobId);
    assert.equal(job?.state, "succeeded");
    assert.ok((await bot.jobs.events(accepted.jobId)).length > 0);
    assert.ok((await bot.jobs.list(10)).some((j) => j.id === accepted.jobId));
    const audit = await bot.audit.latest(5);
    assert.ok(audit.some((a) => a.jobId === accepted.jobId));
    const nodes = await bot.run(root, "nodes");
    assert.ok(JSON.stringify(nodes).includes("db1"));

    const strict = testBot(
      { ...CONFIG, bot: { dangerousHostThreshold: 1 } },
      redis,
      fleet.controller(),
    );
    const asked = await strict.run(root, "fleet ping where role=web");
    const confirm = asked.find((e) => e.type === "confirm");
    assert.ok(confirm && confirm.type === "confirm", JSON.stringify(asked));
    const confirmed = await strict.run(root, `confirm ${confirm.code}`);
    assert.ok(
      confirmed.some((e) => e.type === "result"),
      JSON.stringify(confirmed),
    );
    await strict.close();

    const bus = createBus(redis);
    const hub = new JobLiveHub(
      bus,
      "commodore:",
      silentLogger,
      new MetricsRegistry().counter("d", "d"),
      bot.sealer,
    );
    const got: JobLiveMessage[] = [];
    const off = await hub.subscribe(accepted.jobId, (m) => got.push(m));
    await bot.jobs.addEvent(accepted.jobId, {
      type: "progress",
      jobId: accepted.jobId,
      line: "hello",
    });
    await waitFor("live job event over sharded pub/sub", () => got.length === 1);
    await off();
    await hub.close();
    await bus.close();
    await bot.close();
  });
});
