/**
 * The status page in a real headless Chromium (Debian's, driven by playwright-core) against
 * the real stack: redis-server, signed agents, the bot and the HTTP transport. Opens a job
 * while it runs, watches hosts turn from pending to ok and their timeline bars grow, filters to
 * failures, checks the duration histogram, a batched rollout's waves on the timeline, the
 * output groups and the fleet view's charts, watches for CSP violations and saves screenshots
 * under test-output/ for review.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import type { BotEvent } from "../../bot/contract.ts";
import { hashToken } from "../../transports/http/tokens.ts";
import type { Provider } from "../../executors/fleet/providers/provider.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import type { Redis } from "ioredis";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { who } from "../harness/bot.ts";
import { startTestStatus, type TestStatus } from "../harness/status.ts";
import { tempDir } from "../harness/tmp.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = join(import.meta.dirname, "../../test-output");
const HOSTILE_SHORT = `<b id="pwned">boom</b> disk /var full`;
/** An os fact that must stay text in the fleet view's chart. */
const HOSTILE_OS = `<i id="pwned-os">bsd</i>`;
const VIEWPORT = { width: 1280, height: 720 };
/** A screenshot smaller than this is blank or broken. */
const MIN_PNG_BYTES = 10_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Reports every CSP violation of every page to the test (runs before the page's scripts). */
const CSP_LISTENER = `document.addEventListener("securitypolicyviolation", (e) => {
  window.reportCsp(e.violatedDirective + " " + (e.blockedURI || "inline"));
});`;
const CHROME_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A `work` provider that answers after `ms` with exit `exit`. */
function work(ms: number, exit = 0, short = `done in ${ms} ms`): Provider {
  return {
    name: "work",
    timeoutMs: 30_000,
    async run(_args, ctx) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        });
      });
      return { exit, short, stdout: `${ctx.hostname}: ${short}\n`, tookMs: ms };
    },
  };
}

/** A `motd` provider printing two lines; the second is `load` (`ok` on most hosts). */
function motd(load = "ok"): Provider {
  return {
    name: "motd",
    timeoutMs: 30_000,
    async run() {
      return { exit: 0, short: "kernel 6.1", stdout: `kernel 6.1\nload ${load}\n` };
    },
  };
}

/** A `work` provider that answers once the test calls `release` (so no timing is assumed). */
function gated(): { provider: Provider; release: () => void } {
  let release = () => undefined as void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return {
    release: () => release(),
    provider: {
      name: "work",
      timeoutMs: 30_000,
      async run() {
        await opened;
        return { exit: 0, short: "released by the test" };
      },
    },
  };
}

const CONFIG = {
  roles: { reader: { grants: [{ command: "fleet" }, { command: "job" }, { command: "nodes" }] } },
  principals: [{ id: "alice", roles: ["reader"], http: { tokenSha256: hashToken("alice-token") } }],
  bot: {
    providers: { work: { risk: "read" }, motd: { risk: "read" } },
    dangerousHostThreshold: 100,
  },
};

const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (apt-get install chromium) — skipping the browser test`;

describe("status page in headless Chromium", { skip }, () => {
  let fleet: TestFleet;
  let redis: Redis;
  let ui: TestStatus;
  let browser: Browser;
  let page: Page;
  const db1 = gated();
  const shots = tempDir("commodore-shots-");
  const problems: string[] = [];

  /** Starts `text` as alice; resolves to the job id and the command's completion. */
  async function start(text: string): Promise<{ jobId: string; done: Promise<unknown> }> {
    let jobId: string | undefined;
    const events: BotEvent[] = [];
    const done = ui.bot.bot.handle(
      { principal: who("alice", ["reader"]), transport: "irc", text },
      (e) => {
        events.push(e);
        if (e.type === "accepted") jobId = e.jobId;
      },
    );
    while (jobId === undefined && events.length < 2) await new Promise((r) => setTimeout(r, 20));
    assert.ok(jobId, `no job: ${JSON.stringify(events)}`);
    return { jobId, done };
  }

  /**
   * A full-page screenshot, checked to be a non-trivial PNG of the viewport's width, kept in a
   * temporary directory and under test-output/ (and in /tmp as `copy` when given).
   */
  async function shoot(name: string, copy?: string): Promise<void> {
    const path = join(shots, name);
    await page.screenshot({ path, fullPage: true });
    const png = readFileSync(path);
    assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), `${name} is a PNG`);
    assert.ok(png.length > MIN_PNG_BYTES, `${name} has content (${png.length} bytes)`);
    assert.equal(png.readUInt32BE(16), VIEWPORT.width, `${name} is the page's width`);
    assert.ok(png.readUInt32BE(20) >= VIEWPORT.height, `${name} is at least a viewport high`);
    copyFileSync(path, join(OUTPUT, name));
    if (copy !== undefined) copyFileSync(path, copy);
  }

  /** Each host's durationMs in job `jobId`'s stored result. */
  async function durations(jobId: string): Promise<Record<string, number>> {
    const job = await ui.bot.jobs.get(jobId);
    const hosts = job?.result?.kind === "fleet" ? job.result.fleet.hosts : [];
    return Object.fromEntries(hosts.map((h) => [h.hostname, h.durationMs ?? -1]));
  }

  /** The x of each host's timeline bar (one `rect.bar` per host, checked). */
  async function barStarts(): Promise<Record<string, number>> {
    const bars = await page.locator("#timeline svg g.host").evaluateAll((gs) =>
      gs.map((g) => ({
        host: g.getAttribute("data-host") ?? "",
        count: g.querySelectorAll("rect.bar").length,
        x: Number(g.querySelector("rect.bar")?.getAttribute("x")),
      })),
    );
    for (const b of bars) assert.equal(b.count, 1, `one bar for ${b.host}`);
    return Object.fromEntries(bars.map((b) => [b.host, b.x]));
  }

  /** `data-label` → `data-count` of the bars or columns matched by `selector`. */
  async function counts(selector: string, label = "data-label"): Promise<Record<string, number>> {
    const pairs = await page
      .locator(selector)
      .evaluateAll(
        (gs, attr) => gs.map((g) => [g.getAttribute(attr), Number(g.getAttribute("data-count"))]),
        label,
      );
    return Object.fromEntries(pairs) as Record<string, number>;
  }

  before(async () => {
    const debian = { role: "web", env: "prod", os: "debian" };
    fleet = await startFleet(
      [
        { hostname: "web1", facts: debian, providers: [work(300), motd()] },
        { hostname: "web2", facts: debian, providers: [work(1_500), motd()] },
        { hostname: "web3", facts: debian, providers: [work(2_500), motd()] },
        {
          hostname: "web4",
          facts: { ...debian, os: "ubuntu" },
          providers: [work(3_500), motd()],
        },
        {
          hostname: "db1",
          facts: { role: "db", env: "prod", os: "debian" },
          providers: [db1.provider, motd()],
        },
        {
          hostname: "cache1",
          facts: { role: "cache", env: "prod", os: HOSTILE_OS },
          providers: [work(2_000, 3, HOSTILE_SHORT), motd("high")],
        },
      ],
      "commodore",
    );
    redis = connectRedis({ url: fleet.redis.url, name: "test-browser", logger: silentLogger });
    await waitReady(redis, fleet.redis.url);
    ui = await startTestStatus(CONFIG, redis, fleet.controller({ principal: "commodore" }));
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROME_ARGS });
    page = await browser.newPage({ viewport: VIEWPORT });
    await page.exposeFunction("reportCsp", (what: string) => problems.push(`CSP: ${what}`));
    await page.addInitScript({ content: CSP_LISTENER });
    // Network errors (the sign-in page's 401, favicon.ico) are the server's answers, not the
    // page's problems; CSP refusals and script errors are.
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
        problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    mkdirSync(OUTPUT, { recursive: true });
  });
  after(async () => {
    db1.release();
    await browser?.close();
    await ui?.close();
    if (redis) await closeRedis(redis);
    await fleet?.stop();
  });

  test("open a running job from its link, watch hosts go pending → ok, filter to failures", async () => {
    const { jobId, done } = await start("fleet work");
    await page.goto(ui.status.jobLink(jobId, "alice"));
    assert.equal(new URL(page.url()).search, "", "the link token leaves the address bar");
    const rows = page.locator("#hosts tbody tr");
    await rows.nth(5).waitFor();
    const slow = page.locator('#hosts tbody tr[data-host="db1"]');
    assert.match(
      (await slow.getAttribute("data-status")) ?? "",
      /^(pending|running)$/,
      "db1 is still working when the page opens (it waits for the test)",
    );
    assert.equal(await page.locator("#job-live").textContent(), "live");
    const db1Bar = page.locator('#timeline g.host[data-host="db1"]');
    await db1Bar.locator("rect.bar.open").waitFor();
    const before = Number(await db1Bar.getAttribute("data-end"));
    await page.waitForTimeout(1_200);
    const reach = await page.locator("#timeline svg").evaluate((svg) => {
      const bar = svg.querySelector('g[data-host="db1"] rect.bar.open');
      const now = svg.querySelector("line.now");
      return {
        end: Number(bar?.parentNode?.getAttribute("data-end")),
        right: Number(bar?.getAttribute("x")) + Number(bar?.getAttribute("width")),
        now: Number(now?.getAttribute("x1")),
      };
    });
    assert.ok(
      reach.end >= before + 500,
      `db1's open bar grows while it runs: ${before} → ${reach.end}`,
    );
    assert.ok(
      Math.abs(reach.right - reach.now) < 1,
      `it reaches the now line: ${JSON.stringify(reach)}`,
    );
    await shoot("status-job-running.png");
    db1.release();

    await page.locator('#hosts tbody tr[data-host="db1"][data-status="ok"]').waitFor();
    await done;
    await page.locator("#job-state.badge.failed").waitFor();
    const statuses = await rows.evaluateAll((trs) =>
      Object.fromEntries(
        trs.map((tr) => [tr.getAttribute("data-host"), tr.getAttribute("data-status")]),
      ),
    );
    assert.deepEqual(statuses, {
      cache1: "failed",
      db1: "ok",
      web1: "ok",
      web2: "ok",
      web3: "ok",
      web4: "ok",
    });
    assert.match(
      (await page.locator("#job-summary").textContent()) ?? "",
      /^5 ok, 1 failed, 0 silent of 6 expected/,
    );

    const starts = await barStarts();
    assert.deepEqual(Object.keys(starts).sort(), ["cache1", "db1", "web1", "web2", "web3", "web4"]);
    assert.equal(await page.locator("#timeline rect.bar.open").count(), 0, "no open bar left");
    assert.equal(new Set(Object.values(starts)).size, 1, "one wave: every bar starts at 0");
    const ends = await page
      .locator("#timeline g.host")
      .evaluateAll((gs) =>
        Object.fromEntries(
          gs.map((g) => [g.getAttribute("data-host"), Number(g.getAttribute("data-end"))]),
        ),
      );
    assert.ok(
      (ends["web1"] ?? 0) < (ends["web4"] ?? 0),
      `web1 ends before web4: ${JSON.stringify(ends)}`,
    );
    assert.match(
      (await page.locator("#timeline g.host[data-host='web4'] title").textContent()) ?? "",
      /^web4: ok · started at 0 ms · ack at \d+ ms · finished at \d\.\d\d s \(took /,
      "numbers readable in the tooltip",
    );
    const columns = await page.locator("#histogram svg g.bucket").evaluateAll((gs) =>
      gs.map((g) => ({
        from: Number(g.getAttribute("data-from")),
        to: Number(g.getAttribute("data-to")),
        count: Number(g.getAttribute("data-count")),
        names: (g.querySelector("title")?.textContent ?? "").split(" — ")[1]?.split(", ") ?? [],
      })),
    );
    assert.equal(
      columns.reduce((n, c) => n + c.count, 0),
      6,
      `every host in one column: ${JSON.stringify(columns)}`,
    );
    for (const [host, ms] of Object.entries(await durations(jobId))) {
      const column = columns.find((c) => c.names.includes(host));
      assert.ok(
        column && column.from <= ms && ms < column.to,
        `${host} (${ms} ms) in its column: ${JSON.stringify(columns)}`,
      );
    }
    assert.equal(
      await page.locator("#histogram svg rect.seg.failed").count(),
      1,
      "cache1 stacked red",
    );
    assert.match(
      (await page.locator("#histogram svg").getAttribute("aria-label")) ?? "",
      /^Hosts by duration: ([\d.]+( m?s)? – [\d.]+ m?s \d hosts?(, |$))+$/,
      "the columns' ranges and counts, readable",
    );
    assert.equal(await page.locator("#histogram figcaption").count(), 1);

    await page.locator('#hosts th[data-key="hostname"]').click();
    await page.locator('#hosts tbody tr[data-host="web2"] details summary').click();
    await shoot("status-job.png", "/tmp/status-job.png");

    await page.selectOption("#filter-status", "failed");
    const visible = page.locator("#hosts tbody tr:not([hidden])");
    assert.equal(await visible.count(), 1);
    assert.equal(await visible.first().getAttribute("data-host"), "cache1");
    const cell = visible.first().locator("td.output");
    assert.equal(
      await cell.locator("summary").textContent(),
      HOSTILE_SHORT,
      "output shown as text",
    );
    assert.equal(await page.locator("#pwned").count(), 0, "output never becomes markup");
    await cell.locator("summary").click();
    assert.match((await cell.locator("pre").textContent()) ?? "", /"exit": 3/);
    await shoot("status-job-failed.png");

    await page.fill("#filter-text", "web");
    await page.selectOption("#filter-status", "all");
    assert.equal(await visible.count(), 4);
  });

  test("a batched rollout's later waves start further right on the timeline", async () => {
    const { jobId, done } = await start("fleet work --batch 2 where role=web");
    await page.goto(ui.status.jobLink(jobId, "alice"));
    await page.locator('#hosts tbody tr[data-host="web3"][data-status="ok"]').waitFor();
    // Live (web4 runs 2 s longer): the bars already step right, from the acks' arrival.
    const live = await barStarts();
    assert.ok(
      (live["web1"] ?? 0) < (live["web3"] ?? 0) && (live["web3"] ?? 0) < (live["web4"] ?? 0),
      `waves while the rollout runs: ${JSON.stringify(live)}`,
    );
    await shoot("status-job-batch-running.png");
    await done;
    await page.locator("#job-state.badge.succeeded").waitFor();
    await page.locator("#timeline g.host:not(.live)").nth(3).waitFor();
    const job = await ui.bot.jobs.get(jobId);
    assert.equal(job?.result?.kind, "fleet");
    const startMs = Object.fromEntries(
      (job?.result?.kind === "fleet" ? job.result.fleet.hosts : []).map((h) => [
        h.hostname,
        h.startMs ?? 0,
      ]),
    );
    const x = await barStarts();
    assert.deepEqual(Object.keys(x).sort(), ["web1", "web2", "web3", "web4"]);
    // Two at once: web1 and web2 start the first wave, web3 takes web1's slot (300 ms), web4
    // web2's (1.5 s).
    assert.ok(
      Math.abs((x["web1"] ?? 0) - (x["web2"] ?? 0)) < 2,
      `first wave together: ${JSON.stringify(x)}`,
    );
    assert.ok((startMs["web3"] ?? 0) > 0 && (startMs["web4"] ?? 0) > (startMs["web3"] ?? 0));
    assert.ok(
      (x["web2"] ?? 0) < (x["web3"] ?? 0) && (x["web3"] ?? 0) < (x["web4"] ?? 0),
      `later waves start further right: ${JSON.stringify(x)} for ${JSON.stringify(startMs)}`,
    );
    const order = await page
      .locator("#timeline g.host")
      .evaluateAll((gs) => gs.map((g) => g.getAttribute("data-host")));
    assert.deepEqual(order.slice(2), ["web3", "web4"], "rows ordered by start: a staircase");
    await shoot("status-job-batch.png", "/tmp/status-job-batch.png");
  });

  test("a finished job shows its output groups, the minority with its diff", async () => {
    const { jobId, done } = await start("fleet motd");
    await done;
    await page.goto(ui.status.jobLink(jobId, "alice"));
    const groups = page.locator("#groups article.group");
    await groups.nth(1).waitFor();
    assert.equal(await page.locator("#groups").isVisible(), true);
    assert.equal(await groups.count(), 2);
    const minority = groups.first();
    assert.equal(await minority.locator(".hosts").textContent(), "cache1");
    assert.equal(await minority.locator(".badge").textContent(), "ok");
    assert.equal(await minority.locator(".meta").textContent(), "1 host · 2 lines");
    assert.deepEqual(
      await minority
        .locator("pre.diff span")
        .evaluateAll((spans) => spans.map((e) => [e.className, (e.textContent ?? "").trimEnd()])),
      [
        ["del", "-load ok"],
        ["add", "+load high"],
      ],
    );
    const majority = groups.nth(1);
    assert.match((await majority.getAttribute("class")) ?? "", /majority/);
    assert.equal(await majority.locator(".hosts").textContent(), "db1, web1..web4");
    assert.equal(await majority.locator(".meta").textContent(), "5 hosts · 2 lines · majority");
    assert.equal(await majority.locator("pre.diff").count(), 0);
    assert.match(
      (await page.locator("#groups-note").textContent()) ?? "",
      /^1 group differs from the majority/,
    );
    await shoot("status-job-groups.png");
  });

  test("the fleet view lists the agents with facts, key fingerprints and role/os charts", async () => {
    await page.goto(`${ui.base}/ui`);
    assert.match(
      (await page.locator("h1").textContent()) ?? "",
      /Sign in/,
      "a job link is not a session",
    );
    await page.fill('input[name="token"]', "alice-token");
    await page.click('button[type="submit"]');
    await page.locator("#nodes").waitFor();
    const hosts = await page.locator("#nodes tbody tr td:first-child").allTextContents();
    assert.deepEqual(hosts.sort(), ["cache1", "db1", "web1", "web2", "web3", "web4"]);
    const fp = fleet.agents.get("web1")?.agent.fingerprint ?? "missing";
    assert.ok((await page.content()).includes(fp));
    assert.match((await page.locator("#fleet-summary").textContent()) ?? "", /6 nodes, 0 stale/);
    assert.deepEqual(await counts("#chart-role svg g.bar"), { web: 4, db: 1, cache: 1 });
    assert.deepEqual(await counts("#chart-os svg g.bar"), {
      debian: 4,
      ubuntu: 1,
      [HOSTILE_OS]: 1,
    });
    assert.equal(await page.locator("#pwned-os").count(), 0, "facts stay text in the charts");
    assert.equal(await page.locator("#chart-role figcaption").textContent(), "Nodes by role");
    assert.equal(
      await page.locator("#chart-os svg").getAttribute("aria-label"),
      `Nodes by os: debian: 4, ${HOSTILE_OS}: 1, ubuntu: 1`,
    );
    const widths = await page
      .locator("#chart-role svg rect.fill")
      .evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().width));
    assert.ok((widths[0] ?? 0) > 3.5 * (widths[1] ?? 0), `web's bar is 4× db's: ${widths}`);
    await shoot("status-fleet.png", "/tmp/status-fleet.png");
  });

  test("no page reported a CSP violation or a script error, and the watch works", async () => {
    assert.deepEqual([...problems], []);
    // The listener is live: an inline style attribute is refused and reported.
    await page.evaluate(() => {
      (
        globalThis as unknown as {
          document: { body: { setAttribute(k: string, v: string): void } };
        }
      ).document.body.setAttribute("style", "color: red");
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(
      problems.some((p) => p.startsWith("CSP: style-src")),
      `the inline style was reported: ${JSON.stringify(problems)}`,
    );
  });
});
