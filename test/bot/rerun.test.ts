/**
 * `rerun <job> failed|silent|all` and `POST /jobs/:id/rerun` with real agents: exactly the
 * subset runs again, as a new job linked to the old one, under the caller's own grants (pinned
 * targets still apply), and nobody reruns a job they may not read.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { after, before, describe, test } from "node:test";
import type { BotEvent } from "../../bot/contract.ts";
import type { Provider } from "../../executors/fleet/index.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { who } from "../harness/bot.ts";
import { startTestHttp, type TestHttp } from "../harness/http.ts";

/** Hosts whose `flaky` provider fails; the test changes it between runs. */
const failing = new Set(["www1", "db1"]);
const flaky: Provider = {
  name: "flaky",
  timeoutMs: 5_000,
  run: async (_args, ctx) =>
    failing.has(ctx.hostname) ? { exit: 3, short: "broken" } : { exit: 0, short: "fine" },
};
const TOKEN = "rerun-token";
const CONFIG = {
  bot: { providers: { flaky: { risk: "read" } } },
  roles: {
    ops: { grants: [{ command: "fleet" }, { command: "job" }, { command: "jobs" }] },
    webops: { grants: [{ command: "fleet", where: { role: "web" } }, { command: "job" }] },
    viewer: { grants: [{ command: "job" }] },
  },
  principals: [
    {
      id: "olga",
      roles: ["ops"],
      http: { tokenSha256: createHash("sha256").update(TOKEN).digest("hex") },
    },
  ],
};
const olga = who("olga", ["ops"]);
const wendy = who("wendy", ["webops"]);
const vic = who("vic", ["viewer"]);
const stranger = who("stranger");

function result(events: BotEvent[]) {
  const r = events.find((e) => e.type === "result");
  if (r?.type !== "result" || r.result.kind !== "fleet") throw new Error(JSON.stringify(events));
  return r;
}
function hostsOf(events: BotEvent[]): string[][] {
  const r = result(events).result;
  return r.kind === "fleet" ? r.fleet.hosts.map((h) => [h.hostname, h.status]) : [];
}
const errorOf = (events: BotEvent[]) => events.find((e) => e.type === "error");

describe("rerun (real agents, real Redis, HTTP)", () => {
  let fleet: TestFleet;
  let redis: Redis;
  let http: TestHttp;
  before(async () => {
    fleet = await startFleet(
      ["www1", "www2", "www3", "db1"].map((hostname) => ({
        hostname,
        facts: { role: hostname.startsWith("www") ? "web" : "db" },
        providers: [flaky],
      })),
    );
    redis = new Redis(fleet.redis.url);
    http = await startTestHttp(CONFIG, redis, fleet.controller());
  });
  after(async () => {
    await http.close();
    redis.disconnect();
    await fleet.stop();
  });

  test("reruns exactly the failed hosts as a new job that records the old one", async () => {
    const first = await http.bot.run(olga, "fleet flaky");
    const jobId = result(first).jobId ?? "";
    assert.deepEqual(hostsOf(first), [
      ["db1", "failed"],
      ["www1", "failed"],
      ["www2", "ok"],
      ["www3", "ok"],
    ]);
    failing.clear();
    const again = await http.bot.run(olga, `rerun ${jobId}`);
    assert.deepEqual(hostsOf(again), [
      ["db1", "ok"],
      ["www1", "ok"],
    ]);
    const record = await http.bot.jobs.get(result(again).jobId ?? "");
    assert.equal(record?.rerunOf, jobId);
    assert.equal(record?.text, "fleet flaky --hosts db1,www1");
    assert.deepEqual(record?.targets, ["db1", "www1"]);
    const silent = await http.bot.run(olga, `rerun ${jobId} silent`);
    assert.equal(errorOf(silent)?.type === "error" && errorOf(silent)?.code, "E_BAD_ARGUMENT");
    const all = await http.bot.run(olga, `rerun ${jobId} all`);
    assert.equal(hostsOf(all).length, 4);
  });

  test("the caller's own grants apply: pinned targets narrow it, no fleet grant refuses it", async () => {
    failing.add("www2");
    failing.add("db1");
    const first = await http.bot.run(olga, "fleet flaky");
    const jobId = result(first).jobId ?? "";
    failing.clear();
    const web = await http.bot.run(wendy, `rerun ${jobId}`);
    assert.deepEqual(hostsOf(web), [["www2", "ok"]], "webops is pinned to role=web");
    const viewer = await http.bot.run(vic, `rerun ${jobId}`);
    const denied = errorOf(viewer);
    assert.equal(denied?.type === "error" && denied.code, "E_PERMISSION_DENIED");
    const nobody = await http.bot.run(stranger, `rerun ${jobId}`);
    const refused = errorOf(nobody);
    assert.equal(refused?.type === "error" && refused.code, "E_PERMISSION_DENIED");
    const missing = await http.bot.run(olga, "rerun j000000000000");
    assert.equal(errorOf(missing)?.type === "error" && errorOf(missing)?.code, "E_NOT_FOUND");
  });

  test("POST /jobs/:id/rerun runs the subset over HTTP", async () => {
    failing.add("www3");
    const first = await http.bot.run(olga, "fleet flaky");
    const jobId = result(first).jobId ?? "";
    failing.clear();
    const r = await http.call("POST", `/jobs/${jobId}/rerun`, {
      token: TOKEN,
      body: { subset: "failed" },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /www3/);
    const bad = await http.call("POST", `/jobs/${jobId}/rerun`, {
      token: TOKEN,
      body: { subset: "some" },
    });
    assert.equal(bad.status, 400);
    const unknown = await http.call("POST", "/jobs/nope/rerun", { token: TOKEN, body: {} });
    assert.equal(unknown.status, 404);
  });
});
