import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EXIT, ProviderRunner } from "../../executors/fleet/agent/runner.ts";
import { collectFacts, factsProvider } from "../../executors/fleet/providers/facts.ts";
import { providerRegistry } from "../../executors/fleet/providers/index.ts";
import { countUsers, formatSince, uptimeProvider } from "../../executors/fleet/providers/uptime.ts";
import { matchesNode } from "../../executors/fleet/agent/matcher.ts";
import { tempDir } from "../harness/tmp.ts";
import { sleepProvider } from "../harness/agents.ts";

const ctx = {
  hostname: "h",
  principal: "ops",
  onBehalfOf: undefined,
  requestId: "r",
  facts: { role: "web" },
  signal: new AbortController().signal,
};

describe("providers", () => {
  test("formatSince follows procps", () => {
    assert.equal(formatSince(42 * 60 + 5), "42 min");
    assert.equal(formatSince(3 * 3600 + 7 * 60), "3:07");
    assert.equal(formatSince(86_400 + 23 * 60), "1 day, 23 min");
    assert.equal(formatSince(5 * 86_400 + 11 * 3600 + 23 * 60), "5 days, 11:23");
  });

  test("uptime reads /proc and utmp into the original's fields", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "uptime"), "467580.12 900000.00\n");
    writeFileSync(join(dir, "loadavg"), "0.15 0.19 0.16 1/123 4567\n");
    const utmp = Buffer.alloc(384 * 3);
    utmp.writeInt16LE(7, 0);
    utmp.writeInt16LE(8, 384);
    utmp.writeInt16LE(7, 768);
    writeFileSync(join(dir, "utmp"), utmp);
    assert.equal(countUsers(utmp), 2);
    const p = uptimeProvider({
      procRoot: dir,
      utmpPath: join(dir, "utmp"),
      now: () => new Date(2024, 0, 1, 9, 40, 57),
    });
    assert.deepEqual(await p.run([], ctx), {
      exit: 0,
      time: "09:40:57",
      since: "5 days, 9:53",
      users: "2",
      averages: ["0.15", "0.19", "0.16"],
      short: "09:40:57 up 5 days, 9:53, 2 users, load average: 0.15, 0.19, 0.16",
    });
  });

  test("facts: static facts merge, hostname wins, selection and unknown names", async () => {
    const facts = await collectFacts("node1", { role: "web", hostname: "liar" });
    assert.equal(facts["hostname"], "node1");
    assert.equal(facts["role"], "web");
    for (const k of ["fqdn", "os", "kernel", "arch", "cpus", "memory", "addresses"])
      assert.ok(k in facts, k);
    const out = await factsProvider().run(["role", "nope"], { ...ctx, facts });
    assert.equal(out.exit, 1);
    assert.equal(out.short, "role=web (unknown: nope)");
  });

  test("matcher: all, AND-ed globs, missing facts and identity", () => {
    const facts = { hostname: "www01", role: "web", env: "prod" };
    assert.ok(matchesNode({ all: true, node_facts: { role: "db" } }, facts));
    assert.ok(matchesNode({ all: false, node_facts: { role: "w*", env: "prod" } }, facts));
    assert.ok(!matchesNode({ all: false, node_facts: { role: "w*", env: "staging" } }, facts));
    assert.ok(!matchesNode({ all: false, node_facts: { rack: "*" } }, facts));
    assert.ok(matchesNode({ all: false, node_facts: {}, identity: ["db*", "www0?"] }, facts));
    assert.ok(!matchesNode({ all: false, node_facts: {}, identity: ["db*"] }, facts));
  });

  test("runner bounds concurrency and answers busy when the queue is full", async () => {
    const runner = new ProviderRunner(providerRegistry([sleepProvider()]), {
      concurrency: 1,
      queueLimit: 1,
      maxTimeoutMs: 5_000,
    });
    const spec = { provider: "sleep", args: ["50"], timeoutMs: undefined, context: ctx };
    const [a, b, c] = await Promise.all([runner.run(spec), runner.run(spec), runner.run(spec)]);
    assert.deepEqual([a.exit, b.exit, c.exit].sort(), [0, 0, EXIT.busy]);
    assert.equal((await runner.run({ ...spec, timeoutMs: 10, args: ["1000"] })).exit, EXIT.timeout);
  });
});
