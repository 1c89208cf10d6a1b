/**
 * The status page's chart logic without a browser: charts.js's pure helpers (bucketing, ticks,
 * where a host's bar goes) run in a bare VM context, the fleet view's server-side bar charts
 * and the job view's output groups run as they are.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import type { FleetResult, HostResult, NodeInfo } from "../../executors/fleet/index.ts";
import {
  barChart,
  countBy,
  fleetCharts,
  MAX_BARS,
  NO_FACT,
  OTHER,
} from "../../transports/http/status/fleet-charts.ts";
import { groupViews, jobView, MAX_GROUPS } from "../../transports/http/status/view.ts";

const ASSETS = join(import.meta.dirname, "../../transports/http/status/assets");

interface Item {
  name: string;
  ms: number;
  status: string;
}
interface Bucket {
  from: number;
  to: number;
  items: Item[];
}
interface Span {
  start: number;
  ack?: number;
  end: number;
  open: boolean;
  waiting?: boolean;
}
interface Charts {
  niceStep(raw: number): number;
  ticks(max: number, target?: number): number[];
  buckets(items: readonly Item[], target?: number): Bucket[];
  span(host: Record<string, unknown>, now?: number, lag?: number): Span | undefined;
  lagOf(hosts: readonly Record<string, unknown>[]): number;
  tickLabel(ms: number): string;
}

/**
 * charts.js as the browser runs it, in a context with no DOM (the helpers need none); results
 * come back as plain data of this realm (JSON drops properties that are undefined).
 */
function loadCharts(): Charts {
  const context: { CommodoreCharts?: Charts } = {};
  runInNewContext(readFileSync(join(ASSETS, "charts.js"), "utf8"), context);
  const loaded = context.CommodoreCharts;
  assert.ok(loaded, "charts.js exports CommodoreCharts");
  const plain = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
  return {
    niceStep: (raw) => loaded.niceStep(raw),
    ticks: (max, target) => plain(loaded.ticks(max, target)),
    buckets: (items, target) => plain(loaded.buckets(items, target)),
    span: (host, now, lag) => plain(loaded.span(host, now, lag)),
    lagOf: (hosts) => loaded.lagOf(hosts),
    tickLabel: (ms) => loaded.tickLabel(ms),
  };
}

const node = (hostname: string, facts: Record<string, string>): NodeInfo => ({
  hostname,
  facts,
  fingerprint: "SHA256:x",
  publicKey: "ssh-ed25519 AAAA",
  version: "1",
  lastSeen: new Date(0).toISOString(),
  state: "accepted",
});

const host = (hostname: string, stdout: string, extra: Partial<HostResult> = {}): HostResult => ({
  hostname,
  status: "ok",
  exit: 0,
  short: stdout.split("\n")[0] ?? "",
  output: { exit: 0, stdout },
  ...extra,
});

const result = (hosts: HostResult[]): FleetResult => ({
  requestId: "r",
  provider: "motd",
  args: [],
  where: {},
  hosts,
  summary: {
    expected: hosts.length,
    acked: hosts.length,
    noop: 0,
    ok: hosts.length,
    failed: 0,
    noAck: 0,
    noResult: 0,
    unexpected: 0,
    durationMs: 5,
  },
  replies: [{ raw: "protocol reply" }],
});

describe("status charts", () => {
  const charts = loadCharts();

  test("steps follow 1-2-5 and ticks cover the span from 0", () => {
    assert.deepEqual(
      [0, 0.4, 1, 3, 7, 11, 350, 2001].map((r) => charts.niceStep(r)),
      [1, 1, 1, 5, 10, 20, 500, 5000],
    );
    assert.deepEqual(charts.ticks(3_500, 8), [0, 500, 1000, 1500, 2000, 2500, 3000, 3500]);
    assert.deepEqual(
      ["0", "500 ms", "1 s", "1.5 s", "12 s"],
      [0, 500, 1_000, 1_500, 12_000].map((t) => charts.tickLabel(t)),
    );
  });

  test("durations fall into round buckets from 0, each listing its hosts by name", () => {
    const items = [
      { name: "web10", ms: 310, status: "ok" },
      { name: "web2", ms: 1_500, status: "ok" },
      { name: "web9", ms: 1_999, status: "failed" },
      { name: "web1", ms: 3_500, status: "ok" },
    ];
    const bs = charts.buckets(items);
    assert.equal(bs.length, 8, "3500 ms in 500 ms buckets");
    assert.deepEqual(
      bs.map((b) => [b.from, b.to, b.items.map((i) => i.name).join(",")]),
      [
        [0, 500, "web10"],
        [500, 1000, ""],
        [1000, 1500, ""],
        [1500, 2000, "web2,web9"],
        [2000, 2500, ""],
        [2500, 3000, ""],
        [3000, 3500, ""],
        [3500, 4000, "web1"],
      ],
    );
    assert.equal(
      bs.reduce((n, b) => n + b.items.length, 0),
      items.length,
      "every host counted once",
    );
    assert.deepEqual(charts.buckets([]), []);
    assert.deepEqual(
      charts.buckets([{ name: "a", ms: 0, status: "ok" }]).map((b) => [b.from, b.to]),
      [[0, 1]],
    );
    assert.ok(
      charts.buckets([{ name: "a", ms: 987_654, status: "ok" }]).length <= 11,
      "about ten buckets at most",
    );
  });

  test("a host's bar: finished from its wave's start, open while running, waiting while pending", () => {
    assert.deepEqual(
      charts.span({ status: "ok", startMs: 1_000, ackMs: 20, durationMs: 300 }),
      { start: 1_000, ack: 1_020, end: 1_300, open: false, waiting: false },
      "start → ack → finish",
    );
    assert.deepEqual(
      charts.span({ status: "no_ack", durationMs: 2_000 }),
      { start: 0, end: 2_000, open: false, waiting: false },
      "no startMs counts as 0",
    );
    assert.deepEqual(
      charts.span({ status: "ok", ackAt: 1_030, ackMs: 30, durationMs: 300 }, 2_000),
      { start: 1_000, ack: 1_030, end: 1_300, open: false, waiting: false },
      "live, a host's start is its ack's recording less its ackMs",
    );
    const live = [
      { status: "ok", ackAt: 130, ackMs: 30, durationMs: 300 },
      { status: "ok", ackAt: 1_150, ackMs: 40, durationMs: 300 },
      { status: "ok", startMs: 0, ackAt: 50, ackMs: 30, durationMs: 300 },
      { status: "running", ackAt: 1_300 },
    ];
    const lag = charts.lagOf(live);
    assert.equal(lag, 100, "the first wave started at 0: acks were recorded 100 ms late");
    assert.deepEqual(
      live.map((h) => charts.span(h, 2_000, lag)?.start),
      [0, 1_010, 0, 1_200],
      "the lag comes off live starts; a startMs stands",
    );
    assert.equal(charts.lagOf([{ status: "running", ackAt: 50 }]), 0, "nothing finished yet");
    assert.equal(
      charts.span({ status: "ok", ackAt: 1_030, ackMs: 30, durationMs: 300 })?.start,
      0,
      "once the job finished, only the result's startMs counts",
    );
    assert.deepEqual(charts.span({ status: "running", ackAt: 400 }, 900), {
      start: 400,
      ack: 400,
      end: 900,
      open: true,
    });
    assert.deepEqual(charts.span({ status: "pending" }, 900), {
      start: 0,
      end: 900,
      open: true,
      waiting: true,
    });
    assert.equal(charts.span({ status: "pending" }), undefined, "never started: no bar");
    assert.equal(charts.span({ status: "noop" }, 900), undefined);
  });

  test("the fleet view counts nodes by fact, missing as (none), the long tail as (other)", () => {
    const nodes = [
      node("a", { role: "web", os: "debian" }),
      node("b", { role: "web" }),
      node("c", { role: "db", os: "debian" }),
      node("d", { os: "" }),
    ];
    assert.deepEqual(countBy(nodes, "role"), [
      ["web", 2],
      [NO_FACT, 1],
      ["db", 1],
    ]);
    assert.deepEqual(countBy(nodes, "os"), [
      [NO_FACT, 2],
      ["debian", 2],
    ]);
    const many = Array.from({ length: MAX_BARS + 5 }, (_, i) => node(`h${i}`, { role: `r${i}` }));
    const tail = countBy(many, "role");
    assert.equal(tail.length, MAX_BARS);
    assert.deepEqual(tail.at(-1), [OTHER, 6]);
    assert.equal(fleetCharts([]).value, "", "no chart without nodes");
  });

  test("bar charts are accessible figures and escape fact values", () => {
    const hostile = `"><script>alert(1)</script>`;
    const svg = barChart("chart-role", "Nodes by role", [
      [hostile, 3],
      ["db", 1],
    ]).value;
    assert.ok(!svg.includes("<script"), "values are text");
    assert.match(svg, /<figure class="chart bars" id="chart-role">/);
    assert.match(svg, /<figcaption>Nodes by role<\/figcaption>/);
    assert.match(svg, /role="img"/);
    assert.match(svg, /aria-label="Nodes by role: &quot;&gt;&lt;script&gt;.*: 3, db: 1"/);
    assert.match(svg, /<title>db: 1 node<\/title>/);
    assert.ok(!/style=/.test(svg), "no inline style");
    const widths = [...svg.matchAll(/<rect class="fill"[^>]* width="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    assert.equal(widths.length, 2);
    assert.ok(Math.abs((widths[0] ?? 0) - 3 * (widths[1] ?? 0)) < 0.2, `proportional: ${widths}`);
  });

  test("a finished fleet job's view carries its output groups, the majority kept under the cap", () => {
    const same = "kernel 6.1\nload ok";
    const fleet = result([
      host("www01", same),
      host("www02", same),
      host("www03", same),
      host("db1", "kernel 6.1\nload high"),
    ]);
    const view = jobView({
      id: "j1",
      text: "fleet motd",
      command: "fleet",
      principal: "alice",
      transport: "http",
      state: "succeeded",
      createdAt: new Date(0).toISOString(),
      result: { kind: "fleet", fleet },
    });
    assert.equal("replies" in (view.fleet ?? {}), false, "raw replies stay on the server");
    assert.deepEqual(
      view.groups?.map((g) => [g.label, g.count, g.lines, g.majority, g.diff]),
      [
        ["db1", 1, 2, false, ["-load ok", "+load high"]],
        ["www01..www03", 3, 2, true, undefined],
      ],
    );
    const unique = result(
      Array.from({ length: MAX_GROUPS + 4 }, (_, i) => host(`h${i}`, `output ${i}`)),
    );
    const capped = groupViews(unique);
    assert.equal(capped.groups?.length, MAX_GROUPS);
    assert.equal(capped.groupsOmitted, 4);
    assert.equal(capped.groups?.at(-1)?.majority, true, "the majority is always shown");
  });
});
