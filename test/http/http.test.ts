import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { hashToken } from "../../transports/http/tokens.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { startTestHttp, type TestHttp } from "../harness/http.ts";

const NODES = ["www1", "www2", "db1"].map((hostname) => ({
  hostname,
  facts: {
    role: hostname.startsWith("www") ? "web" : "db",
    env: hostname === "db1" ? "staging" : "prod",
  },
}));
const CONFIG = {
  roles: {
    reader: {
      grants: [
        { command: "fleet", args: { provider: ["ping", "uptime", "facts"] } },
        { command: "jobs" },
        { command: "job" },
        { command: "nodes" },
      ],
    },
    stager: {
      grants: [{ command: "fleet", args: { provider: "restart" }, where: { env: "staging" } }],
    },
    admin: { grants: [{ command: "*" }] },
  },
  principals: [
    { id: "ci", roles: ["reader"], http: { tokenSha256: hashToken("ci-token") } },
    { id: "sam", roles: ["stager"], http: { tokenSha256: hashToken("sam-token") } },
    { id: "root", roles: ["admin"], http: { tokenSha256: hashToken("root-token") } },
  ],
  bot: {
    dangerousHostThreshold: 2,
    defaultRoles: ["reader"],
    providers: { restart: { risk: "change" } },
  },
};

/** Sends raw bytes with chunked encoding (no Content-Length) and returns the status. */
function chunked(port: number, path: string, chunks: number, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { authorization: "Bearer root-token", "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    for (let i = 0; i < chunks; i++) req.write("x".repeat(size));
    req.end();
  });
}

describe("HTTP transport over a real socket and real Redis", () => {
  let server: TestRedis;
  let redis: Redis;
  let http: TestHttp;
  const double = fleetDouble(NODES);

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-http", logger: silentLogger });
    await waitReady(redis, server.url);
    http = await startTestHttp(CONFIG, redis, double.fleet, {
      bodyLimitBytes: 4096,
      anonymousFrom: ["127.0.0.1"],
    });
  });
  after(async () => {
    await http.close();
    await closeRedis(redis);
    await server.stop();
  });

  test("POST /fleet answers with count, message, resps and summary", async () => {
    const r = await http.call("POST", "/fleet", {
      token: "ci-token",
      body: { args: ["uptime"], where: { role: "web" } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["count"], 2);
    assert.equal(r.json["message"], "www1: uptime ok\nwww2: uptime ok");
    assert.equal((r.json["resps"] as unknown[]).length, 2);
    const summary = r.json["summary"] as Record<string, unknown>;
    assert.equal(summary["allOk"], true);
    assert.equal(summary["ok"], 2);
    assert.match(String(summary["line"]), /^2\/2 hosts ok in \d+ ms$/);
    assert.match(String(r.json["jobId"]), /^j[0-9a-f]{12}$/);
  });

  test("POST /fleet turns filter, hosts, limit and batch fields into the same command options", async () => {
    const r = await http.call("POST", "/fleet", {
      token: "ci-token",
      body: {
        args: ["ping"],
        where: { role: "web" },
        filter: ["cpus>=4", "hostname=/^www/"],
        hosts: ["www1", "www2"],
        limit: "50%",
        batch: 1,
        batchWait: 0,
        stopAfterFailures: 2,
      },
    });
    assert.equal(r.status, 200, r.text);
    const req = double.requests.at(-1);
    assert.deepEqual(req?.where, { role: "web" });
    assert.deepEqual(req?.filters, [
      { fact: "cpus", op: ">=", value: "4" },
      { fact: "hostname", op: "=~", value: "^www" },
    ]);
    assert.deepEqual(req?.identities, ["www1", "www2"]);
    assert.deepEqual(req?.limit, { percent: 50 });
    assert.deepEqual(req?.batch, { size: { count: 1 }, stopAfterFailures: 2 });
  });

  test("POST /commands runs any command, pins targets, refuses with codes", async () => {
    const ok = await http.call("POST", "/commands", {
      token: "sam-token",
      body: { command: "fleet restart nginx" },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(double.requests.at(-1)?.where, { env: "staging" });
    const pinned = await http.call("POST", "/commands", {
      token: "sam-token",
      body: { command: "fleet restart nginx where env=prod" },
    });
    assert.equal(pinned.status, 403);
    assert.equal((pinned.json["error"] as Record<string, string>)["code"], "E_PERMISSION_DENIED");
    const typo = await http.call("POST", "/commands", {
      token: "ci-token",
      body: { command: "fleet uptim" },
    });
    assert.equal(typo.status, 400);
    assert.match(
      String((typo.json["error"] as Record<string, string>)["hint"]),
      /did you mean "uptime"/,
    );
    const shell = await http.call("POST", "/fleet", {
      token: "root-token",
      body: { args: ["uptime; rm -rf /", "$(id)"] },
    });
    assert.equal(shell.status, 400);
    assert.equal((shell.json["error"] as Record<string, string>)["code"], "E_BAD_ARGUMENT");
  });

  test("dangerous commands answer 202 with a code that POST /commands confirms", async () => {
    const r = await http.call("POST", "/fleet", {
      token: "root-token",
      body: { args: ["uptime"] },
    });
    assert.equal(r.status, 202, r.text);
    const confirm = r.json["confirm"] as Record<string, string>;
    assert.match(confirm["summary"] ?? "", /on 3 hosts/);
    const done = await http.call("POST", "/commands", {
      token: "root-token",
      body: { command: `confirm ${confirm["code"]}` },
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.json["ok"], true);
  });

  test("tokens: missing, wrong and anonymous local callers", async () => {
    const none = await http.call("POST", "/commands", { body: { command: "fleet restart x" } });
    assert.equal(none.status, 403, "anonymous local callers may only run read commands");
    const read = await http.call("POST", "/commands", {
      body: { command: "fleet ping where role=db" },
    });
    assert.equal(read.status, 200, read.text);
    const bad = await http.call("GET", "/jobs", { token: "nope" });
    assert.equal(bad.status, 401);
    assert.equal((bad.json["error"] as Record<string, string>)["code"], "E_UNAUTHORIZED");
  });

  test("malformed JSON and wrongly typed fields are 400s naming the field", async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ["/fleet", "{not json", /not valid JSON/],
      ["/fleet", { args: "uptime" }, /^args: expected a list, found "uptime"/],
      ["/fleet", { args: ["uptime", 3] }, /^args\[1\]: expected a string, found 3 \(a number\)/],
      ["/fleet", { args: ["uptime"], where: { role: 1 } }, /^where\.role: expected a string/],
      [
        "/fleet",
        { args: [] },
        /^args: expected a list with the provider first, e.g. \["uptime"\], found an empty list/,
      ],
      ["/fleet", { args: ["uptime"], wher: {} }, /unknown field "wher"/],
      ["/fleet", { args: ["uptime"], limit: "x" }, /^limit: /],
      ["/fleet", { args: ["uptime"], batch: 0 }, /^batch: /],
      ["/fleet", { args: ["uptime"], stopAfterFailures: "1" }, /^stopAfterFailures: /],
      ["/commands", { command: null }, /^command: expected a string, found null/],
      ["/commands", [1, 2], /^body: expected a mapping, found a list of 2/],
    ];
    for (const [path, body, message] of cases) {
      const r = await http.call("POST", path, { token: "ci-token", body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      const error = r.json["error"] as Record<string, string>;
      assert.ok(error["code"] === "E_MALFORMED_JSON" || error["code"] === "E_INVALID_FIELD");
      assert.match(error["message"] ?? "", message);
    }
  });

  test("oversize bodies are 413, with or without Content-Length", async () => {
    const big = await http.call("POST", "/commands", {
      token: "ci-token",
      body: { command: "x".repeat(5000) },
    });
    assert.equal(big.status, 413);
    assert.equal((big.json["error"] as Record<string, string>)["code"], "E_BODY_TOO_LARGE");
    assert.equal(await chunked(http.server.port, "/commands", 10, 1000), 413);
    const health = await http.call("GET", "/healthz");
    assert.equal(health.status, 200, "the server survives");
  });

  test("job routes, nodes and 404s", async () => {
    const run = await http.call("POST", "/fleet", {
      token: "ci-token",
      body: { args: ["ping"], where: { hostname: "www*" } },
    });
    const id = String(run.json["jobId"]);
    const job = await http.call("GET", `/jobs/${id}`, { token: "ci-token" });
    assert.equal(job.status, 200);
    assert.equal((job.json["job"] as Record<string, unknown>)["state"], "succeeded");
    assert.ok((job.json["events"] as unknown[]).length >= 3);
    const list = await http.call("GET", "/jobs?limit=50", { token: "ci-token" });
    assert.ok((list.json["jobs"] as Array<{ id: string }>).some((j) => j.id === id));
    assert.equal(
      (await http.call("GET", "/jobs/j000000000000", { token: "ci-token" })).status,
      404,
    );
    assert.equal(
      (await http.call("GET", "/jobs/..%2f..%2fetc", { token: "ci-token" })).status,
      404,
    );
    assert.equal((await http.call("GET", "/jobs?limit=abc", { token: "ci-token" })).status, 400);
    const nodes = await http.call("GET", "/nodes", { token: "ci-token" });
    assert.deepEqual(
      (nodes.json["nodes"] as Array<{ hostname: string }>).map((n) => n.hostname),
      ["db1", "www1", "www2"],
    );
    assert.equal((await http.call("GET", "/nope", { token: "ci-token" })).status, 404);
  });

  test("every HTTP command leaves an audit line, refused ones too", async () => {
    const before = readFileSync(http.bot.auditFile, "utf8").trim().split("\n").length;
    await http.call("POST", "/commands", { token: "ci-token", body: { command: "audit" } });
    await http.call("POST", "/commands", {
      token: "ci-token",
      body: { command: "fleet ping where role=db" },
    });
    const lines = readFileSync(http.bot.auditFile, "utf8")
      .trim()
      .split("\n")
      .slice(before)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l["principal"], l["transport"], l["outcome"], l["text"]]),
      [
        ["ci", "http", "refused", "audit"],
        ["ci", "http", "ok", "fleet ping where role=db"],
      ],
    );
    assert.equal(JSON.stringify(lines).includes("ci-token"), false);
  });

  test("/metrics renders requests, jobs, replies, rejections and latencies", async () => {
    const r = await http.call("GET", "/metrics");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /text\/plain/);
    for (const needle of [
      /commodore_http_requests_total\{route="\/fleet",method="POST",status="200"\} \d+/,
      /commodore_jobs_total\{command="fleet",state="succeeded"\} \d+/,
      /commodore_fleet_host_results_total\{status="ok"\} \d+/,
      /commodore_http_rejected_total\{reason="body_limit"\} 2/,
      /commodore_http_rejected_total\{reason="malformed_json"\} 1/,
      /commodore_http_request_duration_seconds_bucket\{route="\/fleet",le="\+Inf"\} \d+/,
    ])
      assert.match(r.text, needle);
  });

  test("rate limit per principal answers 429", async () => {
    const limited = await startTestHttp(CONFIG, redis, double.fleet, { burst: 2, perMinute: 1 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++)
        codes.push((await limited.call("GET", "/jobs", { token: "ci-token" })).status);
      assert.deepEqual(codes, [200, 200, 429]);
      assert.equal(
        (await limited.call("GET", "/jobs", { token: "root-token" })).status,
        200,
        "other principals unaffected",
      );
    } finally {
      await limited.close();
    }
  });

  test("/healthz reports Redis going away", async () => {
    assert.equal((await http.call("GET", "/healthz")).json["status"], "ok");
    await server.stop();
    const r = await http.call("GET", "/healthz");
    assert.equal(r.status, 503);
    assert.equal(r.json["status"], "degraded");
  });
});
