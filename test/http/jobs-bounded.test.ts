/**
 * Reads don't write, and answers are bounded (issue 23, item 2), with a real redis-server and
 * the real HTTP transport: `GET /jobs` 200 times keeps its answer size, Redis memory and the
 * bot's RSS flat and creates no job; `GET /jobs/:id`, `GET /nodes` and the chat twins create
 * none either; lists are summaries, paged with `limit` and a cursor under a hard cap; a huge
 * fleet output is cut to the record cap with a visible marker; retention keeps at most
 * `maxJobs` jobs and `maxBytes` bytes, deleting the oldest first.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { MAX_JOBS_LISTED } from "../../bot/commands/builtins/jobs.ts";
import {
  MAX_JOB_EVENT_BYTES,
  MAX_JOB_EVENTS_BYTES,
  MAX_JOB_RECORD_BYTES,
  RedisJobStore,
  TRUNCATION_MARKER,
} from "../../bot/jobs/redis-store.ts";
import type { FleetPort } from "../../bot/fleet-port.ts";
import { hashToken } from "../../transports/http/tokens.ts";
import { who } from "../harness/bot.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { startTestHttp, type TestHttp } from "../harness/http.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { testSealer } from "../harness/seal.ts";

const TOKEN = "reader-token";
const OPS_TOKEN = "ops-token";
const NODES = Array.from({ length: 20 }, (_, i) => ({
  hostname: `web${String(i).padStart(2, "0")}`,
  facts: { role: "web" },
}));
/** Each host of `fleet dump` answers this many characters. */
const HUGE_OUTPUT_CHARS = 1024 * 1024;
const GETS = 200;
/** Redis may grow by the audit stream's 200 lines and allocator noise, no more. */
const REDIS_MARGIN_BYTES = 512 * 1024;
/** The bot's RSS may move by allocator noise; the answer doubled it per call. */
const RSS_MARGIN_BYTES = 48 * 1024 * 1024;
const PREFIX = "commodore:";

const CONFIG = {
  roles: {
    reader: {
      grants: [{ command: "jobs" }, { command: "job" }, { command: "nodes" }],
    },
    ops: { grants: [{ command: "fleet", args: { provider: ["uptime", "dump"] } }] },
  },
  principals: [
    { id: "ci", roles: ["reader"], http: { tokenSha256: hashToken(TOKEN) } },
    { id: "ops", roles: ["ops", "reader"], http: { tokenSha256: hashToken(OPS_TOKEN) } },
  ],
  bot: { providers: { dump: { risk: "read" } }, dangerousHostThreshold: 100 },
};

/** The fleet double, with `dump` answering a huge output on every host. */
function hugeFleet(): FleetPort {
  const double = fleetDouble(NODES).fleet;
  return {
    ...double,
    async execute(request, ctx) {
      const result = await double.execute(request, ctx);
      if (request.provider !== "dump") return result;
      const big = "y".repeat(HUGE_OUTPUT_CHARS);
      return {
        ...result,
        hosts: result.hosts.map((h) => ({ ...h, short: big, output: { stdout: big } })),
      };
    },
  };
}

describe("GET /jobs and friends: reads don't write, answers are bounded (real Redis)", () => {
  let server: TestRedis;
  let redis: Redis;
  let http: TestHttp;
  const jobCount = async () => await redis.zcard(`${PREFIX}jobs`);
  const jobKeys = async () => (await redis.keys(`${PREFIX}job:*`)).length;
  const usedMemory = async () =>
    Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? NaN);

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    http = await startTestHttp(CONFIG, redis, hugeFleet());
    for (let i = 0; i < 5; i++) {
      const r = await http.call("POST", "/commands", {
        token: OPS_TOKEN,
        body: { command: "fleet uptime" },
      });
      assert.equal(r.status, 200, r.text);
    }
  });
  after(async () => {
    await http.close();
    redis.disconnect();
    await server.stop();
  });

  test("200 consecutive GET /jobs: same answer size, flat Redis and RSS, no job created", async () => {
    for (let i = 0; i < 10; i++) await http.call("GET", "/jobs", { token: TOKEN }); // warm up
    const jobsBefore = await jobCount();
    const keysBefore = await jobKeys();
    const memoryBefore = await usedMemory();
    const rssBefore = process.memoryUsage().rss;
    const sizes = new Set<number>();
    for (let i = 0; i < GETS; i++) {
      const r = await http.call("GET", "/jobs", { token: TOKEN });
      assert.equal(r.status, 200, r.text);
      sizes.add(r.text.length);
    }
    assert.deepEqual([...sizes].length, 1, `answer sizes: ${[...sizes].join(", ")}`);
    assert.equal(await jobCount(), jobsBefore);
    assert.equal(await jobKeys(), keysBefore);
    const grew = (await usedMemory()) - memoryBefore;
    assert.ok(grew < REDIS_MARGIN_BYTES, `Redis grew ${grew} bytes`);
    const rss = process.memoryUsage().rss - rssBefore;
    assert.ok(rss < RSS_MARGIN_BYTES, `RSS grew ${rss} bytes`);
  });

  test("GET /jobs/:id, GET /nodes, /nodes/pending and the chat twins create no job", async () => {
    const before = await jobCount();
    const list = await http.call("GET", "/jobs?limit=1", { token: TOKEN });
    const id = (list.json["jobs"] as Array<{ id: string }>)[0]?.id ?? "";
    for (const path of [`/jobs/${id}`, "/nodes", "/nodes/pending", "/jobs/j0123456789ab"]) {
      const r = await http.call("GET", path, { token: TOKEN });
      assert.ok(r.status === 200 || r.status === 404, `${path}: ${r.status}`);
      assert.equal(r.json["jobId"], undefined, path);
    }
    for (const text of ["jobs", `job ${id}`, "nodes", "nodes pending", "help"]) {
      const events = await http.bot.run(who("ci", ["reader"]), text, "irc");
      assert.ok(!events.some((e) => e.type === "accepted"), text);
      assert.ok(
        events.some((e) => e.type === "result"),
        `${text}: ${JSON.stringify(events)}`,
      );
    }
    assert.equal(await jobCount(), before);
    // A fleet read touches hosts: it is still a job (rerun, links, progress).
    const events = await http.bot.run(who("ops", ["ops"]), "fleet uptime");
    assert.ok(events.some((e) => e.type === "accepted"));
    assert.equal(await jobCount(), before + 1);
  });

  test("lists are summaries, paged by limit and cursor under a hard cap", async () => {
    const all = await http.call("GET", `/jobs?limit=${MAX_JOBS_LISTED}`, { token: TOKEN });
    const jobs = all.json["jobs"] as Array<Record<string, unknown>>;
    assert.ok(jobs.length >= 6);
    for (const j of jobs) {
      assert.equal(j["result"], undefined);
      assert.equal(j["events"], undefined);
      for (const k of ["id", "text", "principal", "transport", "state", "createdAt", "updatedAt"])
        assert.ok(j[k] !== undefined, k);
      assert.equal(j["targets"], NODES.length);
      assert.equal((j["counts"] as Record<string, number>)["ok"], NODES.length);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < jobs.length; page++) {
      const q = cursor === undefined ? "" : `&cursor=${cursor}`;
      const r = await http.call("GET", `/jobs?limit=2${q}`, { token: TOKEN });
      assert.equal(r.status, 200, r.text);
      seen.push(...(r.json["jobs"] as Array<{ id: string }>).map((j) => j.id));
      cursor = r.json["nextCursor"] as string | undefined;
      if (cursor === undefined) break;
    }
    assert.deepEqual(
      seen,
      jobs.map((j) => j["id"]),
    );
    for (const bad of [`limit=${MAX_JOBS_LISTED + 1}`, "limit=0", "limit=x", "cursor=nope"]) {
      const r = await http.call("GET", `/jobs?${bad}`, { token: TOKEN });
      assert.equal(r.status, 400, bad);
      assert.equal((r.json["error"] as { code?: string } | undefined)?.code, "E_INVALID_FIELD");
    }
  });

  test("a huge fleet output is cut to the record cap, with a visible marker", async () => {
    const r = await http.call("POST", "/commands", {
      token: OPS_TOKEN,
      body: { command: "fleet dump" },
    });
    const id = r.json["jobId"] as string;
    assert.ok(id, r.text.slice(0, 200));
    const stored = await redis.strlen(`${PREFIX}job:{${id}}`);
    // The sealed envelope escapes the record once more (JSON text in JSON).
    assert.ok(stored < MAX_JOB_RECORD_BYTES * 1.25, `record is ${stored} bytes`);
    const job = await http.call("GET", `/jobs/${id}`, { token: TOKEN });
    assert.equal(job.status, 200);
    assert.ok(job.text.length < MAX_JOB_RECORD_BYTES * 2, `answer is ${job.text.length}`);
    assert.ok(job.text.includes(TRUNCATION_MARKER));
    assert.equal((job.json["job"] as { truncated?: boolean }).truncated, true);
    const listed = await http.call("GET", "/jobs?limit=1", { token: TOKEN });
    assert.equal((listed.json["jobs"] as Array<{ truncated?: boolean }>)[0]?.truncated, true);
  });
});

describe("job retention: by count and by bytes, oldest first (real Redis)", () => {
  let server: TestRedis;
  let redis: Redis;
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });
  const job = (id: string, text = "fleet uptime") => ({
    id,
    text,
    command: "fleet",
    principal: "ops",
    transport: "http" as const,
    state: "running" as const,
    createdAt: new Date().toISOString(),
  });
  const ids = (n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => `j${tag}${String(i).padStart(12 - tag.length, "0")}`);

  test("more than maxJobs: the oldest go, keys and all", async () => {
    const store = new RedisJobStore({
      redis,
      prefix: "count:",
      ttlSeconds: 3600,
      sealer: testSealer(),
      maxJobs: 3,
    });
    for (const id of ids(5, "a")) await store.create(job(id));
    const kept = (await store.list(10)).map((j) => j.id);
    assert.deepEqual(kept, ids(5, "a").slice(2).reverse());
    assert.equal(await redis.exists(`count:job:{${ids(5, "a")[0] ?? ""}}`), 0);
    assert.equal(await redis.hlen("count:jobs:summary"), 3);
  });

  test("more than maxBytes: the oldest go until the rest fits", async () => {
    const store = new RedisJobStore({
      redis,
      prefix: "bytes:",
      ttlSeconds: 3600,
      sealer: testSealer(),
      maxBytes: 3 * 1024,
    });
    const all = ids(6, "b");
    for (const id of all) {
      await store.create(job(id));
      await store.finish(id, {
        state: "succeeded",
        finishedAt: new Date().toISOString(),
        result: { kind: "text", lines: ["z".repeat(600)] },
      });
    }
    const kept = (await store.list(10)).map((j) => j.id);
    assert.ok(kept.length >= 1 && kept.length < all.length, kept.join(","));
    assert.deepEqual(kept, all.slice(all.length - kept.length).reverse());
    const bytes = (await redis.hvals("bytes:jobs:bytes")).reduce((n, v) => n + Number(v), 0);
    assert.ok(bytes <= 3 * 1024, `${bytes} bytes kept`);
  });

  test("one job's stored events stop at MAX_JOB_EVENTS_BYTES with one notice; live viewers see them all", async () => {
    const store = new RedisJobStore({
      redis,
      prefix: "events:",
      ttlSeconds: 3600,
      sealer: testSealer(),
    });
    const [id = ""] = ids(1, "e");
    await store.create(job(id));
    const live = new Redis(server.url);
    let published = 0;
    live.on("message", () => void published++);
    await live.subscribe(`events:job:{${id}}:events`);
    const line = "p".repeat(MAX_JOB_EVENT_BYTES / 2);
    const sent = Math.ceil(MAX_JOB_EVENTS_BYTES / line.length) + 50;
    for (let i = 0; i < sent; i++) await store.addEvent(id, { type: "progress", jobId: id, line });
    const events = await store.events(id);
    const bytes = events.reduce((n, e) => n + JSON.stringify(e).length, 0);
    assert.ok(bytes <= MAX_JOB_EVENTS_BYTES + MAX_JOB_EVENT_BYTES, `${bytes} bytes kept`);
    const last = events.at(-1)?.event;
    assert.ok(last?.type === "progress" && /later progress not kept/.test(last.line));
    assert.equal(
      events.filter((e) => e.event.type === "progress" && /not kept/.test(e.event.line)).length,
      1,
    );
    await waitFor("every event published live", () => published >= sent);
    live.disconnect();
  });
});
