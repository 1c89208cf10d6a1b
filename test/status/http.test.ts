import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { hashToken } from "../../transports/http/tokens.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { who } from "../harness/bot.ts";
import { startTestStatus, type TestStatus } from "../harness/status.ts";

const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
const CONFIG = {
  roles: {
    reader: {
      grants: [
        { command: "fleet", args: { provider: ["ping", "uptime"] } },
        { command: "jobs" },
        { command: "job" },
        { command: "nodes" },
      ],
    },
    stager: {
      grants: [{ command: "fleet", args: { provider: "restart" }, where: { env: "staging" } }],
    },
  },
  principals: [
    { id: "ci", roles: ["reader"], http: { tokenSha256: hashToken("ci-token") } },
    { id: "sam", roles: ["stager"], http: { tokenSha256: hashToken("sam-token") } },
  ],
  bot: { providers: { restart: { risk: "change" } } },
};
const NODES = [
  { hostname: "www1", facts: { role: "web", env: "prod", note: HOSTILE } },
  { hostname: "db1", facts: { role: "db", env: "staging" } },
];

/** Reads an SSE response until `end` (or `gone`) and returns the event names and data. */
async function readEvents(res: Response): Promise<Array<{ event: string; data: string }>> {
  const out: Array<{ event: string; data: string }> = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    buf += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join("\n");
      if (event === undefined) continue;
      out.push({ event, data });
      if (event === "end" || event === "gone") {
        await reader.cancel();
        return out;
      }
    }
  }
}

describe("status page access over real HTTP and Redis", () => {
  let server: TestRedis;
  let redis: Redis;
  let ui: TestStatus;
  let clock = Date.now();
  let ciJob = "";
  let samJob = "";
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(ui.base + path, { headers, redirect: "manual" });

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-status", logger: silentLogger });
    await waitReady(redis, server.url);
    ui = await startTestStatus(CONFIG, redis, fleetDouble(NODES).fleet, { now: () => clock });
    const jobOf = (events: Awaited<ReturnType<typeof ui.bot.run>>) => {
      const accepted = events.find((e) => e.type === "accepted");
      assert.ok(accepted?.type === "accepted", JSON.stringify(events));
      return accepted.jobId;
    };
    ciJob = jobOf(await ui.bot.run(who("ci", ["reader"]), "fleet uptime", "http"));
    samJob = jobOf(await ui.bot.run(who("sam", ["stager"]), "fleet restart", "http"));
  });
  after(async () => {
    await ui.close();
    await closeRedis(redis);
    await server.stop(true);
  });

  test("nothing is readable without a token: 401 pages that hold no data", async () => {
    for (const path of ["/ui", "/ui/jobs", `/ui/jobs/${ciJob}`, `/ui/jobs/${ciJob}/events`]) {
      const res = await get(path);
      const body = await res.text();
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get("www-authenticate") ?? "", /Bearer/);
      assert.ok(!body.includes("www1") && !body.includes("uptime"), `${path} leaks nothing`);
    }
    const bad = await get("/ui", { authorization: "Bearer wrong" });
    assert.equal(bad.status, 401);
  });

  test("a bearer token with the nodes grant sees the fleet, escaped, under a strict CSP", async () => {
    const res = await get("/ui", { authorization: "Bearer ci-token" });
    const body = await res.text();
    assert.equal(res.status, 200);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.equal(res.headers.get("referrer-policy"), "same-origin");
    assert.ok(body.includes("www1") && body.includes("db1"));
    assert.ok(!body.includes("<script>alert") && !body.includes("<img src=x"));
    assert.ok(body.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert.deepEqual(body.match(/<script[^>]*>/g), ['<script src="/ui/static/table.js" defer>']);
    const jobs = await get("/ui/jobs", { authorization: "Bearer ci-token" });
    assert.equal(jobs.status, 200);
    assert.ok((await jobs.text()).includes(ciJob));
  });

  test("permissions follow the bot's policy: 403 without the grant, owners see their own job", async () => {
    const sam = { authorization: "Bearer sam-token" };
    assert.equal((await get("/ui", sam)).status, 403);
    assert.equal((await get("/ui/jobs", sam)).status, 403);
    assert.equal((await get(`/ui/jobs/${ciJob}`, sam)).status, 403);
    assert.equal((await get(`/ui/jobs/${samJob}`, sam)).status, 200);
    assert.equal((await get(`/ui/jobs/j000000000000`, sam)).status, 404);
  });

  test("a job link is exchanged for an HttpOnly cookie that opens only that job", async () => {
    const link = new URL(ui.status.jobLink(ciJob, "ci"));
    assert.equal(link.origin, ui.base);
    const res = await get(link.pathname + link.search);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `/ui/jobs/${ciJob}`);
    const cookie = res.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, new RegExp(`Path=/ui/jobs/${ciJob}`));
    const jar = { cookie: cookie.split(";")[0] ?? "" };
    const page = await get(`/ui/jobs/${ciJob}`, jar);
    assert.equal(page.status, 200);
    assert.ok((await page.text()).includes("fleet uptime"));
    const events = await readEvents(await get(`/ui/jobs/${ciJob}/events`, jar));
    assert.deepEqual(
      events.map((e) => e.event),
      ["snapshot", "end"],
    );
    const snap = JSON.parse(events[0]?.data ?? "{}") as { job: { fleet: { hosts: unknown[] } } };
    assert.equal(snap.job.fleet.hosts.length, 2);
    assert.ok(!("replies" in snap.job.fleet), "raw protocol replies are not sent");
    assert.equal((await get("/ui", jar)).status, 403, "a job link is not a session");
    assert.equal((await get(`/ui/jobs/${samJob}?t=${link.searchParams.get("t")}`)).status, 403);
  });

  test("forged and expired links get 401", async () => {
    const t = new URL(ui.status.jobLink(ciJob, "ci")).searchParams.get("t") ?? "";
    const [exp, job, , mac] = t.split(".");
    const forged = `${exp}.${job}.${Buffer.from("root").toString("base64url")}.${mac}`;
    const res = await get(`/ui/jobs/${ciJob}?t=${forged}`);
    assert.equal(res.status, 401);
    assert.match(await res.text(), /not valid or has expired/);
    assert.equal((await get(`/ui/jobs/${ciJob}?t=garbage`)).status, 401);
    clock += 2 * 3_600_000;
    try {
      assert.equal((await get(`/ui/jobs/${ciJob}?t=${t}`)).status, 401);
      assert.equal((await get(`/ui/jobs/${ciJob}`, { cookie: `commodore_job=${t}` })).status, 401);
    } finally {
      clock -= 2 * 3_600_000;
    }
    assert.equal((await get(`/ui/jobs/${ciJob}?t=${t}`)).status, 303, "valid again at its time");
  });

  test("signing in with a token starts a session; cross-site sign-in is refused", async () => {
    const form = (token: string, origin?: string) =>
      fetch(`${ui.base}/ui/login`, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...(origin === undefined ? {} : { origin }),
        },
        body: new URLSearchParams({ token, next: "/ui/jobs" }).toString(),
      });
    assert.equal((await form("nope")).status, 401);
    assert.equal((await form("ci-token", "https://evil.example")).status, 403);
    const ok = await form("ci-token", ui.base);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/ui/jobs");
    const cookie = ok.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /Path=\/ui/);
    const jar = { cookie: cookie.split(";")[0] ?? "" };
    assert.equal((await get("/ui", jar)).status, 200);
    assert.equal((await get(`/ui/jobs/${ciJob}`, jar)).status, 200);
    assert.equal((await get("/ui", { cookie: "commodore_session=1.Y2k.forged" })).status, 401);
    const out = await fetch(`${ui.base}/ui/logout`, {
      method: "POST",
      redirect: "manual",
      headers: jar,
    });
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie") ?? "", /commodore_session=;.*Max-Age=0/);
  });

  test("static files are served; unknown pages are 404", async () => {
    const js = await get("/ui/static/job.js");
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type") ?? "", /javascript/);
    assert.equal((await get("/ui/static/../app.ts")).status, 404);
    assert.equal((await get("/ui/static/nope.js")).status, 404);
    assert.equal((await get("/ui/whatever")).status, 404);
  });
});
