import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FleetProgress } from "../../executors/fleet/types.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";

function ctx(events: FleetProgress[] = []) {
  return {
    jobId: "job-1",
    principalId: "alice",
    signal: new AbortController().signal,
    progress: (e: FleetProgress) => void events.push(e),
  };
}

describe("fleet round trip over real Redis", () => {
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet([
      { hostname: "www01.example.com", facts: { role: "web", env: "prod" } },
      { hostname: "www02.example.com", facts: { role: "web", env: "staging" }, keyType: "ecdsa" },
      { hostname: "db01.example.com", facts: { role: "db", env: "prod" }, keyType: "rsa" },
    ]);
  });
  after(() => fleet.stop());

  test("ping reaches every registered host and completes without waiting for the ack timeout", async () => {
    const c = fleet.controller({ ackTimeoutMs: 30_000 });
    const events: FleetProgress[] = [];
    const result = await c.execute({ provider: "ping", args: [], where: {} }, ctx(events));
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status, h.short]),
      [
        ["db01.example.com", "ok", "pong"],
        ["www01.example.com", "ok", "pong"],
        ["www02.example.com", "ok", "pong"],
      ],
    );
    assert.equal(result.summary.ok, 3);
    assert.equal(events[0]?.kind, "published");
    assert.ok(result.summary.durationMs < 30_000);
  });

  test("glob filter selects matching hosts; the others answer noop", async () => {
    const c = fleet.controller();
    const result = await c.execute(
      { provider: "uptime", args: [], where: { role: "web", hostname: "www0[1-2].*" } },
      ctx(),
    );
    assert.deepEqual(
      result.hosts.map((h) => h.hostname),
      ["www01.example.com", "www02.example.com"],
    );
    assert.ok(
      result.hosts.every((h) => h.status === "ok" && / up .* load average: /.test(h.short)),
    );
    assert.equal(result.summary.noop, 1);
    assert.deepEqual(await c.expectedHosts({ env: "prod" }), [
      "db01.example.com",
      "www01.example.com",
    ]);
  });
});
