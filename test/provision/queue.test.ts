import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { silentLogger } from "../../lib/log.ts";
import { RunAlreadyPendingError } from "../../executors/provision/errors.ts";
import {
  ProvisionQueue,
  type ProvisionQueueOptions,
} from "../../executors/provision/queue/queue.ts";
import type { PlaybookRunner } from "../../executors/provision/runner/run.ts";
import type { ProvisionJobSpec, RunOutcome, RunStatus } from "../../executors/provision/types.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { waitFor } from "../harness/ports.ts";
import { testSealer } from "../harness/seal.ts";

let server: TestRedis;
const clients: Redis[] = [];
before(async () => {
  server = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await server.stop(true);
});

let prefixSeq = 0;
const sealer = testSealer();
function client(): Redis {
  const c = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

function spec(host: string, playbook = "web"): ProvisionJobSpec {
  return { host, playbook, trigger: "command", check: false, requestedBy: "test" };
}

const outcome = (status: RunStatus): RunOutcome => ({ status, message: status, durationMs: 1 });

function makeQueue(run: PlaybookRunner, extra: Partial<ProvisionQueueOptions> = {}) {
  const lines: string[] = [];
  const queue = new ProvisionQueue({
    redis: client(),
    prefix: `t${++prefixSeq}:`,
    concurrency: 2,
    retries: { max: 3, baseMs: 10, capMs: 40 },
    leaseMs: 300,
    run,
    sealer,
    logger: silentLogger,
    notifier: { notice: (l) => lines.push(l) },
    pollMs: 20,
    ...extra,
  });
  return { queue, lines };
}

async function settled(queue: ProvisionQueue, jobId: string) {
  await waitFor(`job ${jobId} final`, async () => {
    const s = (await queue.get(jobId))?.state;
    return s !== undefined && !["pending", "running", "retrying"].includes(s);
  });
  return await queue.status(jobId);
}

describe("provision queue (real Redis, fake runner)", () => {
  test("FIFO under the concurrency cap, one active job per host, notices on start and end", async () => {
    let running = 0;
    let maxRunning = 0;
    const order: string[] = [];
    const { queue, lines } = makeQueue(async (s) => {
      order.push(s.host);
      maxRunning = Math.max(maxRunning, ++running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return outcome("succeeded");
    });
    const hosts = ["h1", "h2", "h3", "h4", "h5", "h6"];
    const ids: string[] = [];
    for (const h of hosts) ids.push((await queue.enqueue(spec(h))).jobId);
    await assert.rejects(queue.enqueue(spec("h3", "db")), (err: unknown) => {
      assert.ok(err instanceof RunAlreadyPendingError);
      assert.equal(err.existingJobId, ids[2]);
      return true;
    });
    await queue.start();
    for (const id of ids) assert.equal((await settled(queue, id)).state, "succeeded");
    await queue.stop();
    assert.deepEqual(order, hosts);
    assert.equal(maxRunning, 2);
    assert.equal(await queue.activeJobFor("h3"), undefined);
    assert.ok((await queue.enqueue(spec("h3"))).jobId.startsWith("prov-"));
    assert.ok(lines.includes(`provision ${ids[0]}: web on h1 started (attempt 1, command)`));
    assert.ok(lines.includes(`provision ${ids[0]}: web on h1 succeeded: succeeded`));
  });

  test("unreachable hosts are retried with backoff, up to the limit", async () => {
    const seen = new Map<string, number>();
    const { queue, lines } = makeQueue(async (s) => {
      const n = (seen.get(s.host) ?? 0) + 1;
      seen.set(s.host, n);
      return outcome(
        s.host === "flaky" && n < 3
          ? "unreachable"
          : s.host === "dead"
            ? "unreachable"
            : "succeeded",
      );
    });
    await queue.start();
    const flaky = await queue.enqueue(spec("flaky"));
    const dead = await queue.enqueue(spec("dead"));
    const flakyJob = await settled(queue, flaky.jobId);
    assert.equal(flakyJob.state, "succeeded");
    assert.equal(flakyJob.attempts, 3);
    const gaveUp = await settled(queue, dead.jobId);
    await queue.stop();
    assert.equal(gaveUp.state, "unreachable");
    assert.equal(gaveUp.attempts, 4);
    assert.ok(lines.some((l) => /dead unreachable: unreachable; retrying in \d+ s/.test(l)));
  });

  test("a refused or failed run is final, never retried", async () => {
    let calls = 0;
    const { queue } = makeQueue(async () => {
      calls++;
      return outcome("refused");
    });
    await queue.start();
    const { jobId } = await queue.enqueue(spec("badkey"));
    const job = await settled(queue, jobId);
    await queue.stop();
    assert.equal(job.state, "refused");
    assert.equal(calls, 1);
  });

  test("jobs of a worker that died are recovered by another; shutdown hands runs back", async () => {
    const prefix = `t${++prefixSeq}:`;
    const blocked: string[] = [];
    const hang: PlaybookRunner = async (s, ctx) => {
      blocked.push(s.host);
      await new Promise((r) => ctx.signal.addEventListener("abort", r));
      return outcome("cancelled");
    };
    const crashing = makeQueue(hang, { prefix });
    await crashing.queue.enqueue(spec("a"));
    await crashing.queue.enqueue(spec("b"));
    await crashing.queue.enqueue(spec("c"));
    await crashing.queue.start();
    await waitFor("two runs started", () => blocked.length === 2);
    // Crash: the Redis connection goes away first, so nothing gets written back.
    clients.at(-1)?.disconnect();
    await crashing.queue.stop();

    const done: string[] = [];
    const survivor = makeQueue(
      async (s) => {
        done.push(s.host);
        return outcome("succeeded");
      },
      { prefix },
    );
    await survivor.queue.start();
    await waitFor("all three run after recovery", () => done.length === 3, 5_000);
    assert.deepEqual([...done].sort(), ["a", "b", "c"]);

    const graceful = makeQueue(hang, { prefix });
    const { jobId } = await graceful.queue.enqueue(spec("d"));
    await survivor.queue.stop();
    await graceful.queue.start();
    await waitFor("d started", () => blocked.includes("d"));
    await graceful.queue.stop();
    const back = await graceful.queue.status(jobId);
    assert.equal(back.state, "pending");
    assert.equal(back.attempts, 0);
  });

  test("status of unknown or malformed ids", async () => {
    const { queue } = makeQueue(async () => outcome("succeeded"));
    assert.equal(await queue.get("prov-999"), undefined);
    assert.equal(await queue.get("../../etc"), undefined);
    await assert.rejects(queue.status("prov-999"), /no provisioning job "prov-999"/);
  });
});
