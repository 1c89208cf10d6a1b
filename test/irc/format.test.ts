import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { collapseRuns, naturalCompare } from "../../bot/format/hostnames.ts";
import type { HostResult } from "../../executors/fleet/types.ts";
import { formatFleetResult } from "../../transports/irc/format/fleet.ts";
import {
  MAX_DETAIL_CHARS,
  MAX_DETAILED_GROUPS,
  MAX_DIFF_LINES_SHOWN,
} from "../../transports/irc/format/outliers.ts";
import { formatConfirm, formatError, formatResult } from "../../transports/irc/format/events.ts";
import { ProgressTracker } from "../../transports/irc/format/progress.ts";
import { fleetResult, okHosts, uptimeShort } from "./fixtures.ts";

const items = (names: string[], text = "ok") => names.map((hostname) => ({ hostname, text }));

/** `www01`, `www02`, … */
const www = (i: number) => `www${String(i).padStart(2, "0")}`;

/** An `exec` answer: stdout kept in the output, its first line as `short`. */
function execHost(hostname: string, stdout: string, exit = 0): HostResult {
  return {
    hostname,
    status: exit === 0 ? "ok" : "failed",
    exit,
    short: stdout.split("\n")[0] ?? "",
    output: { exit, short: "", stdout },
  };
}

/** Three lines of nginx facts; `version` is what differs between hosts. */
const nginx = (version: string) => `nginx version: nginx/${version}\nworker_processes 4\nlisten 80`;

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

describe("fleet result: outliers", () => {
  test("one group: as compact as ever, no diff and no outlier note", () => {
    const hosts = Array.from({ length: 40 }, (_, i) => execHost(www(i + 1), nginx("1.24.0")));
    assert.deepEqual(formatFleetResult(fleetResult("exec", hosts)).lines, [
      "www01..www40: nginx version: nginx/1.24.0",
      "exec on 40 hosts: 40 ok (1.2 s)",
    ]);
  });

  test("3 hosts differ from 40: the minority first with its diff, then the majority", () => {
    const odd = new Set([7, 19, 33]);
    const hosts = Array.from({ length: 43 }, (_, i) =>
      execHost(www(i + 1), nginx(odd.has(i + 1) ? "1.22.1" : "1.24.0")),
    );
    const f = formatFleetResult(fleetResult("exec", hosts));
    assert.deepEqual(f.lines, [
      "www07, www19, www33: ok, 3 lines",
      "  -nginx version: nginx/1.24.0",
      "  +nginx version: nginx/1.22.1",
      "www01..www06, www08..www18, www20..www32, www34..www43: ok, 3 lines",
      "exec on 43 hosts: 43 ok; output differs on 3 hosts (1.2 s)",
    ]);
    assert.equal(f.summary, f.lines.at(-1), "the summary alone still says that hosts differ");
  });

  test("one-line outputs need no diff: both sides are on their headlines", () => {
    const hosts = Array.from({ length: 40 }, (_, i) => execHost(www(i + 1), "nginx/1.24.0"));
    hosts.push(execHost("www41", "nginx/1.22.1"));
    assert.deepEqual(formatFleetResult(fleetResult("exec", hosts)).lines, [
      "www41: nginx/1.22.1",
      "www01..www40: nginx/1.24.0",
      "exec on 41 hosts: 41 ok; output differs on 1 host (1.2 s)",
    ]);
  });

  test("a long diff is cut at a few lines, and so are long lines", () => {
    const base = Array.from({ length: 10 }, (_, i) => `line ${i}`);
    const hosts = Array.from({ length: 5 }, (_, i) => execHost(www(i + 1), base.join("\n")));
    const changed = base.map((l) => `${l} changed ${"x".repeat(MAX_DETAIL_CHARS)}`);
    hosts.push(execHost("db1", changed.join("\n")));
    const lines = formatFleetResult(fleetResult("exec", hosts)).lines;
    assert.equal(lines[0], "db1: ok, 10 lines");
    const diff = lines.slice(1, 1 + MAX_DIFF_LINES_SHOWN);
    assert.deepEqual(
      diff.map((l) => l.slice(0, 9)),
      ["  -line 0", "  -line 1", "  -line 2", "  -line 3"],
    );
    assert.equal(
      lines[1 + MAX_DIFF_LINES_SHOWN],
      `  … ${20 - MAX_DIFF_LINES_SHOWN} more diff lines`,
    );
    assert.equal(lines[2 + MAX_DIFF_LINES_SHOWN], "www01..www05: ok, 10 lines");
    const longest = Math.max(...lines.map((l) => Array.from(l).length));
    assert.ok(longest <= MAX_DETAIL_CHARS + 2, `a detail line is clipped (${longest} chars)`);
  });

  test("many groups stay bounded: details for the first few, headlines for the rest", () => {
    const hosts = Array.from({ length: 30 }, (_, i) => execHost(www(i + 1), nginx("1.24.0")));
    for (let i = 0; i < 12; i++) hosts.push(execHost(`db${i + 1}`, nginx(`1.${i}.0`)));
    const lines = formatFleetResult(fleetResult("exec", hosts)).lines;
    const headlines = lines.filter((l) => !l.startsWith("  "));
    assert.equal(headlines.length, 12 + 2, "12 outliers, the majority, the summary");
    assert.deepEqual(headlines.slice(0, 3), [
      "db1: ok, 3 lines",
      "db2: ok, 3 lines",
      "db3: ok, 3 lines",
    ]);
    assert.equal(lines.filter((l) => l.startsWith("  -")).length, MAX_DETAILED_GROUPS);
    assert.equal(lines.length, 14 + 2 * MAX_DETAILED_GROUPS);
    assert.equal(lines.at(-2), "www01..www30: ok, 3 lines");
    assert.equal(lines.at(-1), "exec on 42 hosts: 42 ok; output differs on 12 hosts (1.2 s)");
  });

  test("a group scattered over many ranges names a few and counts the rest", () => {
    const hosts = Array.from({ length: 40 }, (_, i) =>
      execHost(www(i + 1), i % 5 === 4 ? "old" : "new"),
    );
    const lines = formatFleetResult(fleetResult("exec", hosts)).lines;
    assert.equal(lines[0], "www05, www10, www15, www20, www25, www30 and 2 more hosts: old");
    assert.equal(
      lines[1],
      "www01..www04, www06..www09, www11..www14, www16..www19, www21..www24, www26..www29 and 8 more hosts: new",
    );
  });

  test("failed and silent hosts: a failure shows its own output, silence its reason", () => {
    const hosts = Array.from({ length: 40 }, (_, i) => execHost(www(i + 1), nginx("1.24.0")));
    const emerg = [
      "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address in use)",
      "",
      "nginx: configuration file /etc/nginx/nginx.conf test failed",
      "see journalctl -u nginx",
      "exit status 1",
    ];
    hosts.push(execHost("db1", emerg.join("\n"), 1));
    hosts.push(execHost("db2", "permission denied", 126));
    hosts.push({
      hostname: "cache1",
      status: "no_ack",
      short: "no acknowledgement within 2000 ms",
    });
    hosts.push({ hostname: "cache2", status: "no_ack", short: "" });
    assert.deepEqual(formatFleetResult(fleetResult("exec", hosts)).lines, [
      "cache1: no acknowledgement within 2000 ms",
      "cache2: no acknowledgement",
      "db1: failed (exit 1), 5 lines",
      "  nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address in use)",
      "  nginx: configuration file /etc/nginx/nginx.conf test failed",
      "  see journalctl -u nginx",
      "  exit status 1",
      "db2: failed (exit 126): permission denied",
      "www01..www40: ok, 3 lines",
      "exec on 44 hosts: 40 ok, 2 failed, 2 no ack (1.2 s)",
    ]);
  });

  test("a cancelled job: the unfinished majority reads as cancelled, once", () => {
    const cancelled = (hostname: string, exit: number | undefined, short: string): HostResult =>
      exit === undefined
        ? { hostname, status: "cancelled", short }
        : { hostname, status: "cancelled", exit, short, output: { exit, short, cancelled: true } };
    const hosts: HostResult[] = [
      ...Array.from({ length: 3 }, (_, i) => execHost(www(i + 1), "restarted nginx")),
      ...Array.from({ length: 35 }, (_, i) => cancelled(www(i + 4), 130, "cancelled by alice")),
      cancelled("www39", undefined, "cancelled by alice; the agent did not confirm the stop"),
      cancelled("www40", undefined, "cancelled by alice; the agent did not confirm the stop"),
    ];
    assert.deepEqual(formatFleetResult(fleetResult("restart", hosts)).lines, [
      "www39, www40: cancelled by alice; the agent did not confirm the stop",
      "www01..www03: restarted nginx",
      "www04..www38: cancelled by alice",
      "restart on 40 hosts: 3 ok, 37 cancelled (1.2 s)",
    ]);
  });

  test("cancelled hosts in per-host lines, with and without a reason", () => {
    const hosts: HostResult[] = [
      { hostname: "db1", status: "cancelled", short: "" },
      { hostname: "db2", status: "cancelled", short: "cancelled by alice" },
      { hostname: "db3", status: "cancelled", short: "agent stopped the provider" },
    ];
    assert.deepEqual(formatFleetResult(fleetResult("restart", hosts)).lines, [
      "db1: cancelled",
      "db2: cancelled by alice",
      "db3: cancelled: agent stopped the provider",
      "restart on 3 hosts: 3 cancelled (1.2 s)",
    ]);
  });

  test("no clear majority: per-host lines as before", () => {
    const load = (l: string) => uptimeShort(5, l);
    const hosts = [
      { hostname: "db1", status: "ok" as const, exit: 0, short: load("0.10, 0.10, 0.10") },
      { hostname: "www1", status: "ok" as const, exit: 0, short: load("0.20, 0.20, 0.20") },
      { hostname: "www2", status: "ok" as const, exit: 0, short: load("0.20, 0.20, 0.20") },
    ];
    assert.deepEqual(formatFleetResult(fleetResult("uptime", hosts)).lines, [
      `db1: ${load("0.10, 0.10, 0.10")}`,
      `www1: ${load("0.20, 0.20, 0.20")}`,
      `www2: ${load("0.20, 0.20, 0.20")}`,
      "uptime on 3 hosts: 3 ok (1.2 s)",
    ]);
    const split = [...okHosts(4, "a"), ...okHosts(4, "b", "db"), ...okHosts(2, "c", "mx")];
    assert.deepEqual(formatFleetResult(fleetResult("ping", split)).lines, [
      "db01..db04: b",
      "mx01: c",
      "mx02: c",
      "www01..www04: a",
      "ping on 10 hosts: 10 ok (1.2 s)",
    ]);
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
