import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { FleetExecutor } from "../../executors/fleet/controller/controller.ts";
import { fleetNames } from "../../executors/fleet/protocol/channels.ts";
import type { FleetResult } from "../../executors/fleet/types.ts";
import { waitFor } from "../harness/ports.ts";
import { withProbe } from "../harness/redis-proc.ts";
import { startSentinel, type TestSentinel } from "../harness/redis-sentinel.ts";
import { scaleFleet, type ScaleFleet } from "../harness/scale-fleet.ts";

const RECOVERY_MS = 20_000;
/** Heartbeats far apart, so only the reconnect can explain a fresh registration. */
const SLOW_HEARTBEAT_MS = 120_000;

function ping(
  controller: FleetExecutor,
  provider = "ping",
  args: string[] = [],
): Promise<FleetResult> {
  return controller.execute(
    { provider, args, where: {} },
    {
      jobId: "j1",
      principalId: "ops",
      signal: AbortSignal.timeout(30_000),
      progress: () => undefined,
    },
  );
}

/** `sent_at` of a host's registration on the current primary (0 when absent). */
async function registeredAt(port: number, hostname: string): Promise<number> {
  const raw = await withProbe(port, (r) => r.get(fleetNames().node(hostname)));
  if (raw === null) return 0;
  const { payload } = JSON.parse(raw) as { payload: string };
  return (JSON.parse(payload) as { sent_at: number }).sent_at;
}

describe("Sentinel failover while idle", () => {
  let sentinel: TestSentinel;
  let fleet: ScaleFleet;

  before(async () => {
    sentinel = await startSentinel();
    fleet = scaleFleet(sentinel.url, SLOW_HEARTBEAT_MS);
    await fleet.addAgent("www1", { role: "web" });
    await fleet.addAgent("www2", { role: "web" });
  });
  after(async () => {
    await fleet.stop();
    await sentinel.stop();
  });

  test("agents re-register on the promoted replica and the next request succeeds", async () => {
    const controller = fleet.controller();
    assert.equal((await ping(controller)).summary.ok, 2);
    const killedAt = Date.now();
    const primary = await sentinel.killPrimary();
    await waitFor(
      "both agents re-registered after the failover",
      async () =>
        (await registeredAt(primary, "www1")) > killedAt &&
        (await registeredAt(primary, "www2")) > killedAt,
      RECOVERY_MS,
      100,
    ).catch((err: unknown) => {
      // The reconnect story is in the log; print it when recovery failed.
      console.error(fleet.logLines.slice(-80).join("\n"));
      throw err;
    });
    // The agents' subscriptions come back with their connections; retry until they did.
    let result: FleetResult | undefined;
    await waitFor(
      "a fleet request answered by both agents",
      async () => {
        result = await ping(controller);
        return result.summary.ok === 2;
      },
      RECOVERY_MS,
      200,
    ).catch((err: unknown) => {
      console.error(fleet.logLines.slice(-80).join("\n"), JSON.stringify(result?.hosts));
      throw err;
    });
    assert.deepEqual(
      result?.hosts.map((h) => h.status),
      ["ok", "ok"],
    );
  });
});
