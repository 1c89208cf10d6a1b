/**
 * Job links posted in a chat channel are read-only capabilities for one job: anyone following
 * one sees that job's page and event stream as a role-less `link:<job>` viewer, gets 403
 * everywhere else, and only while the principal the link was made for may read the job.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { hashToken } from "../../transports/http/tokens.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { who } from "../harness/bot.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { startTestStatus, type TestStatus } from "../harness/status.ts";

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
    pinger: { grants: [{ command: "fleet", args: { provider: "ping" } }] },
  },
  principals: [
    { id: "alice", roles: ["reader"], http: { tokenSha256: hashToken("alice-token") } },
    { id: "sam", roles: ["pinger"], http: { tokenSha256: hashToken("sam-token") } },
    { id: "bob", roles: [], http: { tokenSha256: hashToken("bob-token") } },
  ],
};
const NODES = [{ hostname: "www1", facts: { role: "web", secret_rack: "r42" } }];

describe("job links are scoped to one job", () => {
  let server: TestRedis;
  let redis: Redis;
  let ui: TestStatus;
  let aliceJob = "";
  let samJob = "";
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(ui.base + path, { headers, redirect: "manual" });
  /** Follows a link like a browser: exchanges it for the job cookie. */
  const follow = async (link: string) => {
    const url = new URL(link);
    const res = await get(url.pathname + url.search);
    assert.equal(res.status, 303);
    return { cookie: (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "" };
  };
  const tokenOf = (link: string) => new URL(link).searchParams.get("t") ?? "";

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-link-scope", logger: silentLogger });
    await waitReady(redis, server.url);
    ui = await startTestStatus(CONFIG, redis, fleetDouble(NODES).fleet);
    const jobOf = async (id: string, roles: string[], text: string) => {
      const events = await ui.bot.run(who(id, roles), text, "irc");
      const accepted = events.find((e) => e.type === "accepted");
      assert.ok(accepted?.type === "accepted", JSON.stringify(events));
      return accepted.jobId;
    };
    aliceJob = await jobOf("alice", ["reader"], "fleet uptime");
    samJob = await jobOf("sam", ["pinger"], "fleet ping");
  });
  after(async () => {
    await ui.close();
    await closeRedis(redis);
    await server.stop(true);
  });

  test("a second channel member following the link sees that job, as a viewer, not as alice", async () => {
    const jar = await follow(ui.status.jobLink(aliceJob, "alice"));
    const page = await get(`/ui/jobs/${aliceJob}`, jar);
    const body = await page.text();
    assert.equal(page.status, 200);
    assert.ok(body.includes("fleet uptime"));
    assert.ok(body.includes(`as link:${aliceJob}`), "the header names the link, not alice");
    assert.ok(!body.includes("as alice"));
    const events = await get(`/ui/jobs/${aliceJob}/events`, jar);
    assert.equal(events.status, 200);
    await events.body?.cancel();
  });

  test("…and gets 403 on the fleet view, the jobs list and any other job", async () => {
    const link = ui.status.jobLink(aliceJob, "alice");
    const jar = await follow(link);
    const t = tokenOf(link);
    for (const [path, headers] of [
      ["/ui", jar],
      ["/ui/jobs", jar],
      [`/ui/jobs/${samJob}`, jar],
      [`/ui/jobs/${samJob}/events`, jar],
      [`/ui?t=${t}`, {}],
      [`/ui/jobs?t=${t}`, {}],
      [`/ui/jobs/${samJob}?t=${t}`, {}],
      [`/ui/jobs/${samJob}/events?t=${t}`, {}],
    ] as const) {
      const res = await get(path, headers);
      const body = await res.text();
      assert.equal(res.status, 403, path);
      assert.match(body, new RegExp(`opens job ${aliceJob} only`), path);
      assert.ok(!body.includes("www1") && !body.includes("r42"), `${path} shows no fleet data`);
      assert.ok(!body.includes("fleet ping"), `${path} shows nothing of sam's job`);
    }
  });

  test("a link is only as good as the reading rights of the principal it was made for", async () => {
    // bob has no `job` grant and did not run alice's job: his link opens nothing.
    const bobs = new URL(ui.status.jobLink(aliceJob, "bob"));
    assert.equal((await get(bobs.pathname + bobs.search)).status, 403);
    // sam has no `job` grant either, but it is his own job.
    const sams = await follow(ui.status.jobLink(samJob, "sam"));
    assert.equal((await get(`/ui/jobs/${samJob}`, sams)).status, 200);
    // A principal that is not configured (any more) makes no link at all.
    const gone = new URL(ui.status.jobLink(aliceJob, "mallory"));
    assert.equal((await get(gone.pathname + gone.search)).status, 401);
  });

  test("a bearer token still acts as its own principal next to a link", async () => {
    const t = tokenOf(ui.status.jobLink(aliceJob, "alice"));
    const bob = { authorization: "Bearer bob-token" };
    assert.equal((await get(`/ui/jobs/${aliceJob}?t=${t}`, bob)).status, 403, "bob's own rights");
    const alice = { authorization: "Bearer alice-token" };
    assert.equal((await get(`/ui?t=${t}`, alice)).status, 200, "alice's own rights");
  });
});
