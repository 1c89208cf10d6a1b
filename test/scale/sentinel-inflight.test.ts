import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CONNECTION_LOST_REASON } from "../../executors/fleet/controller/controller.ts";
import { sleepProvider } from "../harness/agents.ts";
import { waitFor } from "../harness/ports.ts";
import { startSentinel, type TestSentinel } from "../harness/redis-sentinel.ts";
import { scaleFleet, type ScaleFleet } from "../harness/scale-fleet.ts";

describe("Sentinel failover with a request in flight", () => {
  let sentinel: TestSentinel;
  let fleet: ScaleFleet;

  before(async () => {
    sentinel = await startSentinel();
    fleet = scaleFleet(sentinel.url);
    await fleet.addAgent("slow1", {}, [sleepProvider()]);
  });
  after(async () => {
    await fleet.stop();
    await sentinel.stop();
  });

  test("the request ends failed with a clear reason instead of hanging", async () => {
    const controller = fleet.controller({ execTimeoutMs: 60_000 });
    let acked = false;
    const running = controller.execute(
      { provider: "sleep", args: ["30000"], where: {}, execTimeoutMs: 60_000 },
      {
        jobId: "j2",
        principalId: "ops",
        signal: AbortSignal.timeout(60_000),
        progress: (p) => {
          if (p.kind === "ack") acked = true;
        },
      },
    );
    await waitFor("the agent acknowledging", () => acked);
    const killed = sentinel.killPrimary();
    const result = await running;
    await killed;
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status, h.short]),
      [["slow1", "no_result", CONNECTION_LOST_REASON]],
    );
  });
});
