import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { groupHeadline, lineDiff, outputGroups } from "../../bot/format/outliers.ts";
import type { FleetResult, HostResult } from "../../executors/fleet/index.ts";

function result(hosts: HostResult[]): FleetResult {
  return {
    requestId: "r",
    provider: "exec",
    args: [],
    where: {},
    hosts,
    replies: [],
    summary: {
      expected: hosts.length,
      acked: hosts.length,
      noop: 0,
      ok: 0,
      failed: 0,
      noAck: 0,
      noResult: 0,
      unexpected: 0,
      durationMs: 1,
    },
  };
}
const ok = (hostname: string, stdout: string): HostResult => ({
  hostname,
  status: "ok",
  exit: 0,
  short: stdout.split("\n")[0] ?? "",
  output: { exit: 0, short: "", stdout },
});

describe("outliers", () => {
  test("diffs: only the first minorities (smallest first) get a diff; the groups stay complete", () => {
    const hosts = Array.from({ length: 10 }, (_, i) => ok(`www${i}`, "same\n"));
    hosts.push(ok("odd1", "one\n"), ok("odd2", "two\n"), ok("odd3", "three\n"));
    const all = outputGroups(result(hosts));
    const first = outputGroups(result(hosts), { diffs: 1 });
    assert.deepEqual(
      first.map((g) => g.label),
      all.map((g) => g.label),
    );
    assert.deepEqual(first[0]?.diff, all[0]?.diff);
    assert.ok((all[1]?.diff?.length ?? 0) > 0);
    assert.deepEqual(
      first.map((g) => g.diff === undefined),
      [false, true, true, true],
    );
    assert.ok(outputGroups(result(hosts), { diffs: 0 }).every((g) => g.diff === undefined));
  });

  test("forty identical hosts and two outliers: outliers first, each diffed against the majority", () => {
    const hosts = Array.from({ length: 40 }, (_, i) =>
      ok(`www${String(i + 1).padStart(2, "0")}`, "nginx 1.24\nworkers 4\n"),
    );
    hosts.push(ok("www41", "nginx 1.22\nworkers 4\n"));
    hosts.push({
      hostname: "db1",
      status: "failed",
      exit: 3,
      short: "broken",
      output: { exit: 3, short: "broken" },
    });
    const groups = outputGroups(result(hosts));
    assert.deepEqual(
      groups.map((g) => [g.label, g.majority]),
      [
        ["db1", false],
        ["www41", false],
        ["www01..www40", true],
      ],
    );
    assert.deepEqual(groups[1]?.diff, ["-nginx 1.24", "+nginx 1.22"]);
    assert.equal(groupHeadline(groups[2] ?? groups[0]!), "www01..www40: ok, 2 lines");
    assert.equal(
      groupHeadline(groups[0]!),
      "db1: failed (exit 3), 1 line (differs from the majority)",
    );
  });

  test("line diff keeps common lines out and is bounded", () => {
    assert.deepEqual(lineDiff("a\nb\nc", "a\nx\nc"), ["-b", "+x"]);
    assert.deepEqual(lineDiff("a", "a"), []);
    const long = Array.from({ length: 100 }, (_, i) => `l${i}`).join("\n");
    assert.equal(lineDiff(long, "").length, 20);
  });
});
