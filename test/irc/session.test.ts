import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { OutputCache } from "../../transports/irc/output-cache.ts";
import { ACCEPT_QUIET_MS, ReplySession } from "../../transports/irc/session.ts";
import { FakeClock } from "./fake-clock.ts";
import { fleetEvents, fleetResult, okHosts } from "./fixtures.ts";

function setup(withLink = true) {
  const url = withLink ? "https://commodore.test/jobs/j1" : undefined;
  const clock = new FakeClock();
  const lines: string[] = [];
  const cache = new OutputCache(10, 60_000, clock.now);
  const session = new ReplySession({
    output: { reply: (l) => lines.push(...l) },
    maxLines: 8,
    progressIntervalMs: 1_000,
    cache,
    owner: "alice",
    jobUrl: () => url,
    moreHint: (id) => `!more ${id}`,
    schedule: clock.schedule,
  });
  return { clock, lines, cache, session };
}

describe("ReplySession", () => {
  test("a short fleet result goes to the channel in full", () => {
    const { lines, session } = setup();
    const hosts = [
      { hostname: "www01", status: "ok" as const, short: "up 1 day" },
      { hostname: "www02", status: "ok" as const, short: "up 2 days" },
      { hostname: "www03", status: "ok" as const, short: "up 3 days" },
    ];
    for (const e of fleetEvents("j1", "fleet uptime", fleetResult("uptime", hosts)))
      session.sink(e);
    assert.deepEqual(lines, [
      "waiting for acknowledgements from 3 hosts",
      "got 3/3 acknowledgements",
      "www01: up 1 day",
      "www02: up 2 days",
      "www03: up 3 days",
      "uptime on 3 hosts: 3 ok (1.2 s)",
    ]);
  });

  test("long output becomes summary + link, and the full text is cached for `more`", () => {
    const { lines, cache, session } = setup();
    const hosts = okHosts(12, "x").map((h, i) => ({ ...h, short: `load ${i}` }));
    for (const e of fleetEvents("j1", "fleet uptime", fleetResult("uptime", hosts)))
      session.sink(e);
    assert.deepEqual(lines.slice(2), [
      "uptime on 12 hosts: 12 ok (1.2 s)",
      'full output: https://commodore.test/jobs/j1 (or say "!more j1" for all 13 lines by private message)',
    ]);
    assert.equal(cache.get("j1")?.lines.length, 13);
    assert.equal(cache.get("j1")?.owner, "alice");
  });

  test("without a web link the hint still explains how to get the text", () => {
    const { lines, session } = setup(false);
    const hosts = okHosts(12, "x").map((h, i) => ({ ...h, short: `load ${i}` }));
    for (const e of fleetEvents("j9", "fleet uptime", fleetResult("uptime", hosts)))
      session.sink(e);
    assert.equal(lines.at(-1), 'say "!more j9" for all 13 lines by private message');
  });

  test("announces the job only when nothing else was said quickly", () => {
    const { clock, lines, session } = setup();
    session.sink({ type: "accepted", jobId: "j2", command: "provision web" });
    clock.advance(ACCEPT_QUIET_MS);
    assert.deepEqual(lines, ["job j2 started: provision web"]);
    session.sink({ type: "progress", jobId: "j2", line: "TASK [nginx]" });
    session.sink({ type: "progress", jobId: "j2", line: "TASK [php]" });
    session.sink({ type: "progress", jobId: "j2", line: "TASK [done]" });
    assert.deepEqual(lines.slice(1), ["TASK [nginx]"]);
    clock.advance(1_000);
    assert.deepEqual(lines.slice(1), ["TASK [nginx]", "TASK [done]"], "progress is coalesced");
    session.sink({
      type: "result",
      jobId: "j2",
      ok: true,
      result: { kind: "text", lines: ["ok"] },
    });
    clock.advance(10_000);
    assert.deepEqual(lines.slice(3), ["ok"]);
  });

  test("a quick refusal suppresses the job announcement", () => {
    const { clock, lines, session } = setup();
    session.sink({ type: "accepted", jobId: "j3", command: "fleet restart nginx" });
    session.sink({ type: "error", code: "E_PERMISSION_DENIED", message: "no" });
    clock.advance(10_000);
    assert.deepEqual(lines, ["no (E_PERMISSION_DENIED)"]);
  });

  test("live counts tick while acknowledgements trickle in", () => {
    const { clock, lines, session } = setup();
    const expected = ["a1", "a2", "a3"];
    session.sink({
      type: "fleet-progress",
      jobId: "j",
      progress: { kind: "published", requestId: "r", expected },
    });
    session.sink({
      type: "fleet-progress",
      jobId: "j",
      progress: { kind: "ack", hostname: "a1", acked: 1, expected: 3 },
    });
    clock.advance(1_000);
    assert.deepEqual(lines, [
      "waiting for acknowledgements from 3 hosts",
      "got 1/3 acknowledgements, waiting for 2 more",
    ]);
    clock.advance(5_000);
    assert.equal(lines.length, 2, "no repeated lines without news");
    session.close();
  });
});

describe("OutputCache", () => {
  test("forgets old jobs by count and by age", () => {
    const clock = new FakeClock();
    const cache = new OutputCache(2, 1_000, clock.now);
    cache.put("a", ["1"], "alice");
    cache.put("b", ["2"], "bob");
    cache.put("c", ["3"], "alice");
    assert.equal(cache.get("a"), undefined);
    assert.deepEqual(cache.get("b")?.lines, ["2"]);
    assert.equal(cache.get("b")?.owner, "bob");
    clock.advance(1_000);
    assert.equal(cache.get("c"), undefined);
  });
});
