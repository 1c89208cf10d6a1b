/**
 * The status page in a real headless Chromium (Debian's, driven by playwright-core) against
 * the real stack: redis-server, signed agents, the bot and the HTTP transport. Opens a job
 * while it runs, watches hosts turn from pending to ok, filters to failures and saves
 * screenshots under test-output/ for review.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
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

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = join(import.meta.dirname, "../../test-output");
const HOSTILE_SHORT = `<b id="pwned">boom</b> disk /var full`;
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
  bot: { providers: { work: { risk: "read" } }, dangerousHostThreshold: 100 },
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

  before(async () => {
    fleet = await startFleet(
      [
        { hostname: "web1", facts: { role: "web", env: "prod" }, providers: [work(300)] },
        { hostname: "web2", facts: { role: "web", env: "prod" }, providers: [work(1_500)] },
        { hostname: "web3", facts: { role: "web", env: "prod" }, providers: [work(2_500)] },
        { hostname: "web4", facts: { role: "web", env: "prod" }, providers: [work(3_500)] },
        { hostname: "db1", facts: { role: "db", env: "prod" }, providers: [db1.provider] },
        {
          hostname: "cache1",
          facts: { role: "cache", env: "prod" },
          providers: [work(2_000, 3, HOSTILE_SHORT)],
        },
      ],
      "commodore",
    );
    redis = connectRedis({ url: fleet.redis.url, name: "test-browser", logger: silentLogger });
    await waitReady(redis, fleet.redis.url);
    ui = await startTestStatus(CONFIG, redis, fleet.controller({ principal: "commodore" }));
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROME_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
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
    let jobId: string | undefined;
    const events: BotEvent[] = [];
    const done = ui.bot.bot.handle(
      { principal: who("alice", ["reader"]), transport: "irc", text: "fleet work" },
      (e) => {
        events.push(e);
        if (e.type === "accepted") jobId = e.jobId;
      },
    );
    while (jobId === undefined && events.length < 2) await new Promise((r) => setTimeout(r, 20));
    assert.ok(jobId, `no job: ${JSON.stringify(events)}`);

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
    await page.screenshot({ path: join(OUTPUT, "status-job-running.png"), fullPage: true });
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

    await page.locator('#hosts th[data-key="hostname"]').click();
    await page.locator('#hosts tbody tr[data-host="web2"] details summary').click();
    await page.screenshot({ path: join(OUTPUT, "status-job.png"), fullPage: true });

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
    await page.screenshot({ path: join(OUTPUT, "status-job-failed.png"), fullPage: true });

    await page.fill("#filter-text", "web");
    await page.selectOption("#filter-status", "all");
    assert.equal(await visible.count(), 4);
  });

  test("the fleet view lists the agents with facts and key fingerprints", async () => {
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
    await page.screenshot({ path: join(OUTPUT, "status-fleet.png"), fullPage: true });
  });
});
