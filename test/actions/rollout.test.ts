import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FleetExecutor } from "../../executors/fleet/controller/controller.ts";
import type { FleetProgress, FleetRequest } from "../../executors/fleet/types.ts";
import { maxConcurrency, spanScript } from "../harness/actions.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { tempDir } from "../harness/tmp.ts";
import { context } from "../fleet/helpers.ts";

const HOSTS = ["h1", "h2", "h3", "h4", "h5"];
const CPUS = ["2", "4", "8", "16", "32"];

describe("targeting and sliding-window batches on real agents", () => {
  let fleet: TestFleet;
  let ops: FleetExecutor;
  const spans = join(tempDir("commodore-rollout-"), "spans");
  const script = spanScript(spans, "0.2");

  before(async () => {
    fleet = await startFleet([]);
    for (const [i, hostname] of HOSTS.entries()) {
      await fleet.addAgent({
        hostname,
        facts: { role: "web", env: i < 3 ? "prod" : "staging", cpus: CPUS[i] ?? "1" },
        options: {
          authorization: { rules: [{ principals: ["ops"], providers: ["exec"] }] },
          actions: {
            exec: {
              commands: {
                span: { argv: [script, hostname] },
                flaky: {
                  argv: [script, hostname],
                  env: { FAIL_TAG: hostname === "h2" || hostname === "h3" ? hostname : "none" },
                },
              },
            },
          },
        },
      });
    }
    ops = fleet.controller();
  });
  after(() => fleet.stop());

  const exec = (command: string, extra: Partial<FleetRequest>, events: FleetProgress[] = []) => {
    writeFileSync(spans, "");
    return ops.execute(
      { provider: "exec", args: [command], where: { role: "web" }, ...extra },
      context(events),
    );
  };

  test("a batch never runs more hosts at once than its window, and every host runs once", async () => {
    for (const size of [{ count: 2 }, { percent: 20 }]) {
      const events: FleetProgress[] = [];
      const result = await exec("span", { batch: { size } }, events);
      assert.deepEqual(
        result.hosts.map((h) => [h.hostname, h.status]),
        HOSTS.map((h) => [h, "ok"]),
      );
      assert.equal(result.summary.ok, 5);
      const window = "count" in size ? size.count : 1;
      assert.ok(maxConcurrency(spans) <= window, readFileSync(spans, "utf8"));
      assert.equal(readFileSync(spans, "utf8").match(/^start /gm)?.length, 5);
      assert.equal(events.filter((e) => e.kind === "published").length, 1);
      const done = events.flatMap((e) => (e.kind === "host" ? [[e.done, e.expected]] : []));
      assert.deepEqual(
        done,
        [1, 2, 3, 4, 5].map((n) => [n, 5]),
      );
    }
  });

  test("stop-after-failures starts no new host once the threshold is reached", async () => {
    const result = await exec("flaky", { batch: { size: { count: 1 }, stopAfterFailures: 1 } });
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      [
        ["h1", "ok"],
        ["h2", "failed"],
      ],
    );
    assert.deepEqual(result.skipped, ["h3", "h4", "h5"]);
    assert.equal(result.summary.skipped, 3);
    assert.match(result.stoppedReason ?? "", /stopped after 1 failed host/);
    assert.doesNotMatch(readFileSync(spans, "utf8"), /h3|h4|h5/);
  });

  test("--limit picks the first hosts by name, counts or percentages", async () => {
    const two = await exec("span", { limit: { count: 2 } });
    assert.deepEqual(
      two.hosts.map((h) => h.hostname),
      ["h1", "h2"],
    );
    const pct = await exec("span", { limit: { percent: 50 }, where: { env: "prod" } });
    assert.deepEqual(
      pct.hosts.map((h) => h.hostname),
      ["h1", "h2"],
    );
  });

  test("!=, regex, numeric and identity filters: expected hosts equal the hosts that ran", async () => {
    const cases: [Partial<FleetRequest>, string[]][] = [
      [{ filters: [{ fact: "env", op: "!=", value: "prod" }] }, ["h4", "h5"]],
      [{ filters: [{ fact: "hostname", op: "=~", value: "^h[12]$" }] }, ["h1", "h2"]],
      [
        {
          filters: [
            { fact: "cpus", op: ">=", value: "8" },
            { fact: "cpus", op: "<", value: "32" },
          ],
        },
        ["h3", "h4"],
      ],
      [{ identities: ["h5", "h1"] }, ["h1", "h5"]],
    ];
    for (const [refine, want] of cases) {
      assert.deepEqual(await ops.expectedHosts({}, refine), want);
      const r = await ops.execute({ provider: "ping", args: [], where: {}, ...refine }, context());
      assert.deepEqual(
        r.hosts.map((h) => [h.hostname, h.status]),
        want.map((h) => [h, "ok"]),
      );
      assert.equal(r.summary.unexpected, 0);
    }
  });
});
