import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { hashToken } from "../../transports/http/tokens.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { startTestHttp, type TestHttp } from "../harness/http.ts";

const CONFIG = {
  roles: {
    reader: {
      grants: [
        { command: "fleet", args: { provider: ["ping", "uptime", "facts"] } },
        { command: "nodes" },
        { command: "job" },
      ],
    },
    stager: {
      grants: [{ command: "fleet", args: { provider: "facts" }, where: { env: "staging" } }],
    },
    admin: { grants: [{ command: "*" }] },
  },
  principals: [
    { id: "ci", roles: ["reader"], http: { tokenSha256: hashToken("ci-token") } },
    { id: "sam", roles: ["stager"], http: { tokenSha256: hashToken("sam-token") } },
    { id: "root", roles: ["admin"], http: { tokenSha256: hashToken("root-token") } },
  ],
  bot: { dangerousHostThreshold: 2 },
};

describe("HTTP end to end with real Redis and real agents", () => {
  let fleet: TestFleet;
  let redis: Redis;
  let http: TestHttp;

  before(async () => {
    fleet = await startFleet([
      { hostname: "www1", facts: { role: "web", env: "prod" } },
      { hostname: "www2", facts: { role: "web", env: "staging" } },
      { hostname: "db1", facts: { role: "db", env: "prod" } },
    ]);
    redis = connectRedis({ url: fleet.redis.url, name: "test-e2e", logger: silentLogger });
    await waitReady(redis, fleet.redis.url);
    http = await startTestHttp(CONFIG, redis, fleet.controller());
  });
  after(async () => {
    await http.close();
    await closeRedis(redis);
    await fleet.stop();
  });

  test("POST /fleet uptime where role=web: original shape from two signed replies", async () => {
    const r = await http.call("POST", "/fleet", {
      token: "ci-token",
      body: { args: ["uptime"], where: { role: "web" } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["count"], 2);
    const lines = String(r.json["message"]).split("\n");
    assert.deepEqual(
      lines.map((l) => l.split(":")[0]),
      ["www1", "www2"],
    );
    assert.match(lines[0] ?? "", /load average/);
    const resps = r.json["resps"] as Array<Record<string, unknown>>;
    assert.ok(
      resps.every((x) => x["status"] === "complete" && typeof x["in_reply_to"] === "string"),
    );
    const summary = r.json["summary"] as Record<string, unknown>;
    assert.equal(summary["expected"], 2);
    assert.equal(summary["allOk"], true);
    assert.equal(summary["ok"], 2);
    assert.match(String(summary["line"]), /^2\/2 hosts ok in \d+ ms$/);
  });

  test("facts with a hostname glob, and nodes", async () => {
    const r = await http.call("POST", "/commands", {
      token: "ci-token",
      body: { command: "fleet facts where hostname=www*" },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((r.json["lines"] as string[]).at(-1)?.startsWith("2/2 hosts ok"), true);
    const nodes = await http.call("GET", "/nodes", { token: "ci-token" });
    assert.deepEqual(
      (nodes.json["nodes"] as Array<{ hostname: string }>).map((n) => n.hostname),
      ["db1", "www1", "www2"],
    );
  });

  test("pinned targets: the stager only ever reaches env=staging", async () => {
    const r = await http.call("POST", "/fleet", { token: "sam-token", body: { args: ["facts"] } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["message"], String(r.json["message"]).split("\n")[0]);
    assert.match(String(r.json["message"]), /^www2: /);
    const refused = await http.call("POST", "/fleet", {
      token: "sam-token",
      body: { args: ["facts"], where: { env: "prod" } },
    });
    assert.equal(refused.status, 403);
    const wrongProvider = await http.call("POST", "/fleet", {
      token: "sam-token",
      body: { args: ["uptime"] },
    });
    assert.equal(wrongProvider.status, 403);
  });

  test("three hosts exceed the threshold: 202, confirm, then the job is readable", async () => {
    const r = await http.call("POST", "/fleet", { token: "root-token", body: { args: ["ping"] } });
    assert.equal(r.status, 202, r.text);
    const code = (r.json["confirm"] as Record<string, string>)["code"];
    assert.match((r.json["confirm"] as Record<string, string>)["summary"] ?? "", /on 3 hosts/);
    const done = await http.call("POST", "/commands", {
      token: "root-token",
      body: { command: `confirm ${code}` },
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.json["ok"], true);
    const job = await http.call("GET", `/jobs/${String(done.json["jobId"])}`, {
      token: "ci-token",
    });
    assert.equal(job.status, 200);
    const events = job.json["events"] as Array<{
      event: { type: string; progress?: { kind: string } };
    }>;
    assert.equal(
      events.filter((e) => e.event.progress?.kind === "host").length,
      3,
      "per-host progress events",
    );
    const audit = readFileSync(http.bot.auditFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = audit.at(-2);
    assert.equal(last?.["outcome"], "ok");
    assert.deepEqual(last?.["targets"], ["db1", "www1", "www2"]);
  });
});
