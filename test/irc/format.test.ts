import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { collapseRuns, naturalCompare } from "../../bot/format/hostnames.ts";
import { formatFleetResult } from "../../transports/irc/format/fleet.ts";
import { formatConfirm, formatError, formatResult } from "../../transports/irc/format/events.ts";
import { ProgressTracker } from "../../transports/irc/format/progress.ts";
import { fleetResult, okHosts, uptimeShort } from "./fixtures.ts";

const items = (names: string[], text = "ok") => names.map((hostname) => ({ hostname, text }));

describe("hostname runs", () => {
  test("natural order puts www2 before www10", () => {
    assert.deepEqual(["www10", "www2", "db1", "www1"].sort(naturalCompare), [
      "db1",
      "www1",
      "www2",
      "www10",
    ]);
  });

  test("40 identical hosts collapse to one range", () => {
    const groups = collapseRuns(items(okHosts(40, "ok").map((h) => h.hostname)));
    assert.deepEqual(groups, [{ label: "www01..www40", text: "ok", count: 40 }]);
  });

  test("a differing host breaks the run", () => {
    const list = items(["www01", "www02", "www03", "www04", "www05", "www06", "www07"]);
    const withFailure = list.map((it) =>
      it.hostname === "www04" ? { ...it, text: "failed" } : it,
    );
    assert.deepEqual(
      collapseRuns(withFailure).map((g) => `${g.label}: ${g.text}`),
      ["www01..www03: ok", "www04: failed", "www05..www07: ok"],
    );
  });

  test("gaps, different suffixes, padding and short runs are not collapsed", () => {
    const labels = (names: string[]) => collapseRuns(items(names)).map((g) => g.label);
    assert.deepEqual(labels(["www01", "www02", "www04"]), ["www01", "www02", "www04"]);
    assert.deepEqual(labels(["a1.x", "a2.y", "a3.x"]), ["a1.x", "a2.y", "a3.x"]);
    assert.deepEqual(labels(["w08", "w09", "w010"]), ["w08", "w09", "w010"]);
    assert.deepEqual(labels(["w8", "w9", "w10"]), ["w8..w10"]);
    assert.deepEqual(labels(["db", "mail", "web"]), ["db", "mail", "web"]);
    assert.deepEqual(labels(["www01.example.com", "www02.example.com", "www03.example.com"]), [
      "www01..www03.example.com",
    ]);
  });
});

describe("fleet result", () => {
  test("one line per host in natural order, then a summary", () => {
    const result = fleetResult("uptime", [
      { hostname: "www10", status: "ok", exit: 0, short: uptimeShort(5, "0.16, 0.20, 0.17") },
      { hostname: "www2", status: "ok", exit: 0, short: uptimeShort(3, "0.01, 0.02, 0.03") },
      { hostname: "db1", status: "failed", exit: 2, short: "uptime: not found" },
      { hostname: "cache1", status: "no_ack", short: "" },
    ]);
    const f = formatFleetResult(result);
    assert.deepEqual(f.lines, [
      "cache1: no acknowledgement",
      "db1: failed (exit 2): uptime: not found",
      `www2: ${uptimeShort(3, "0.01, 0.02, 0.03")}`,
      `www10: ${uptimeShort(5, "0.16, 0.20, 0.17")}`,
      "uptime on 4 hosts: 2 ok, 1 failed, 1 no ack (1.2 s)",
    ]);
    assert.equal(f.summary, f.lines.at(-1));
  });

  test("identical results collapse; noop hosts are counted, not listed", () => {
    const f = formatFleetResult(fleetResult("ping", okHosts(40, "ok"), { noop: 3 }));
    assert.deepEqual(f.lines, [
      "www01..www40: ok",
      "ping on 40 hosts: 40 ok, 3 did not match (1.2 s)",
    ]);
  });

  test("nobody answered", () => {
    const f = formatFleetResult(fleetResult("ping", [], { noop: 2, durationMs: 2000 }));
    assert.deepEqual(f.lines, ["ping: no host answered, 2 did not match (2.0 s)"]);
  });
});

describe("other events", () => {
  test("errors show message, code and hint", () => {
    assert.equal(
      formatError({
        type: "error",
        code: "E_PERMISSION_DENIED",
        message: "bob may not run fleet restart",
        hint: "ask for role ops",
      }),
      "bob may not run fleet restart (E_PERMISSION_DENIED; ask for role ops)",
    );
  });

  test("confirmations say who must confirm and until when", () => {
    const line = formatConfirm({
      type: "confirm",
      code: "K7Q2",
      summary: 'would run "fleet restart nginx" on 42 hosts',
      expiresAt: "2026-01-01T10:05:00.000Z",
      needsOtherPerson: true,
    });
    assert.equal(
      line,
      'would run "fleet restart nginx" on 42 hosts; to go ahead another operator must say "confirm K7Q2" before 10:05:00 UTC',
    );
  });

  test("text results keep their title", () => {
    assert.deepEqual(formatResult({ kind: "text", title: "commands", lines: ["fleet", "help"] }), {
      lines: ["commands", "fleet", "help"],
      summary: "commands",
    });
  });
});

describe("live progress", () => {
  test("reports real counts, not a fixed wait", () => {
    const t = new ProgressTracker();
    const expected = ["www01", "www02", "www03", "www04", "www05"];
    assert.deepEqual(t.update({ kind: "published", requestId: "r", expected }), [
      "waiting for acknowledgements from 5 hosts",
    ]);
    assert.equal(t.tick(), undefined);
    assert.deepEqual(t.update({ kind: "ack", hostname: "www01", acked: 1, expected: 5 }), []);
    t.update({ kind: "ack", hostname: "www02", acked: 2, expected: 5 });
    t.update({ kind: "ack", hostname: "www03", acked: 3, expected: 5 });
    t.update({ kind: "noop", hostname: "db1" });
    assert.equal(t.tick(), "got 3/5 acknowledgements, waiting for 2 more (1 did not match)");
    assert.equal(t.tick(), undefined, "nothing changed since the last line");
    t.update({ kind: "ack", hostname: "www04", acked: 4, expected: 5 });
    assert.deepEqual(t.update({ kind: "ack", hostname: "www05", acked: 5, expected: 5 }), [
      "got 5/5 acknowledgements",
    ]);
    const host = { hostname: "www01", status: "ok" as const, short: "ok" };
    t.update({ kind: "host", result: host, done: 2, expected: 5 });
    assert.equal(t.tick(), "got 2/5 results, waiting for 3 hosts (1 did not match)");
    t.update({ kind: "host", result: host, done: 5, expected: 5 });
    assert.equal(t.tick(), undefined, "the result itself follows");
  });
});
