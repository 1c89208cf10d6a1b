import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FleetProgress } from "../../executors/fleet/types.ts";
import { hangProvider, startFleet, throwProvider, type TestFleet } from "../harness/agents.ts";
import { context } from "./helpers.ts";

describe("hosts that fail, hang, vanish or die mid-command (real Redis)", () => {
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet([{ hostname: "steady", providers: [hangProvider, throwProvider] }]);
  });
  after(() => fleet.stop());

  test("an agent killed mid-command is reported as acked but no result", async () => {
    const child = await fleet.spawnAgent({ hostname: "doomed" });
    const c = fleet.controller();
    const events: FleetProgress[] = [];
    const progress = context(events);
    const running = c.execute(
      { provider: "sleep", args: ["20000"], where: { hostname: "doomed" }, execTimeoutMs: 1_500 },
      progress,
    );
    while (!events.some((e) => e.kind === "ack")) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    const result = await running;
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      [["doomed", "no_result"]],
    );
    assert.match(result.hosts[0]?.short ?? "", /acked but no result/);
    assert.equal(result.summary.noResult, 1);
  });

  test("unknown provider, bad args, a throwing and a hanging provider each complete non-zero", async () => {
    const c = fleet.controller();
    const run = async (provider: string, args: string[] = []) => {
      const r = await c.execute({ provider, args, where: { hostname: "steady" } }, context());
      return [r.hosts[0]?.status, r.hosts[0]?.exit, r.hosts[0]?.short];
    };
    assert.deepEqual(await run("nope"), [
      "failed",
      127,
      'unknown provider "nope" (known: explode, facts, hang, ping, uptime)',
    ]);
    assert.deepEqual(await run("ping", ["extra"]), [
      "failed",
      64,
      'ping: takes no arguments, got ["extra"] (usage: ping)',
    ]);
    assert.deepEqual(await run("explode"), ["failed", 70, "provider failed: kaboom"]);
    assert.deepEqual(await run("hang"), ["failed", 124, "timed out after 300 ms"]);
    assert.deepEqual(await run("ping"), ["ok", 0, "pong"]);
  });

  test("a registered host that never acks is reported as no ack after the ack timeout", async () => {
    const ghost = await fleet.spawnAgent({ hostname: "ghost" });
    ghost.kill("SIGSTOP");
    try {
      const c = fleet.controller({ ackTimeoutMs: 300 });
      const result = await c.execute(
        { provider: "ping", args: [], where: { hostname: "[gs]*" } },
        context(),
      );
      assert.deepEqual(
        result.hosts.map((h) => [h.hostname, h.status]),
        [
          ["ghost", "no_ack"],
          ["steady", "ok"],
        ],
      );
    } finally {
      ghost.kill("SIGKILL");
    }
  });

  test("cancelling a request closes it at once", async () => {
    const c = fleet.controller();
    const abort = new AbortController();
    const running = c.execute(
      { provider: "hang", args: [], where: {}, execTimeoutMs: 30_000 },
      context([], abort.signal),
    );
    setTimeout(() => abort.abort(), 100);
    const result = await running;
    assert.ok(result.hosts.every((h) => h.status === "no_result" || h.status === "no_ack"));
  });
});
