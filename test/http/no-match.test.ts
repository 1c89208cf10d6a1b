/**
 * The HTTP front door under issue 22's attacks, with real agents behind the shipped Redis ACL
 * (the bot on the bot login, agents and the attacker on the agent login): a filter that matches
 * no accepted host is a 422 with the JSON error shape, nothing published and no succeeded job,
 * synchronously and with `Prefer: respond-async`; `GET /nodes` survives the registry index
 * overwritten with a string and still lists every accepted host.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { BOT_USER } from "../../app/redis-acl.ts";
import { hashToken } from "../../transports/http/tokens.ts";
import { rejected } from "../fleet/helpers.ts";
import {
  aclNames as names,
  startAclFleet,
  type AclController,
  type AclFleet,
} from "../harness/acl-fleet.ts";
import { startTestHttp, type TestHttp } from "../harness/http.ts";
import { waitFor } from "../harness/ports.ts";

const TOKEN = "ops-token";
const CONFIG = {
  roles: { ops: { grants: [{ command: "*" }] } },
  principals: [{ id: "olga", roles: ["ops"], http: { tokenSha256: hashToken(TOKEN) } }],
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("HTTP: no match is a failure; the registry index as garbage is not (ACL, real agents)", () => {
  let fleet: AclFleet;
  let c: AclController;
  let redis: Redis;
  let sub: Redis;
  let http: TestHttp;
  const published: string[] = [];
  before(async () => {
    fleet = await startAclFleet([
      { hostname: "web01", facts: { role: "web" } },
      { hostname: "db01", facts: { role: "db" } },
    ]);
    c = fleet.controller({ ackTimeoutMs: 800 });
    await fleet.accept(c, ["web01", "db01"]);
    redis = new Redis(fleet.server.url("bot"));
    sub = new Redis({
      port: fleet.port,
      host: "127.0.0.1",
      username: BOT_USER,
      password: fleet.server.logins.bot,
    });
    sub.on("message", (_ch: string, m: string) => void published.push(m));
    await sub.subscribe(names.requests);
    http = await startTestHttp(CONFIG, redis, c);
  });
  after(async () => {
    await http.close();
    sub.disconnect();
    redis.disconnect();
    await fleet.stop();
  });

  const jobState = async (jobId: unknown): Promise<unknown> => {
    const job = await http.call("GET", `/jobs/${String(jobId)}`, { token: TOKEN });
    assert.equal(job.status, 200, job.text);
    return (job.json["job"] as Record<string, unknown> | undefined)?.["state"];
  };

  test('POST /fleet {"where":{"rol":"web"}} → 422 E_NO_MATCH with a did-you-mean, nothing sent, no succeeded job', async () => {
    const t = performance.now();
    const r = await http.call("POST", "/fleet", {
      token: TOKEN,
      body: { args: ["ping"], where: { rol: "web" } },
    });
    const tookMs = performance.now() - t;
    assert.equal(r.status, 422, r.text);
    const error = r.json["error"] as Record<string, unknown>;
    assert.equal(error["code"], "E_NO_MATCH");
    assert.match(String(error["message"]), /no accepted host matches rol=web; nothing was sent/);
    assert.match(String(error["hint"]), /did you mean role=web\?/);
    assert.equal(r.json["summary"], undefined, "no fleet summary, no allOk");
    assert.doesNotMatch(r.text, /allOk|hosts ok/);
    assert.ok(tookMs < 800, `answered in ${Math.round(tookMs)} ms, before any ack timeout`);
    if (r.json["jobId"] !== undefined) assert.equal(await jobState(r.json["jobId"]), "failed");
    // Asynchronously: refused at once, or a job that failed, never one that succeeded.
    const a = await http.call("POST", "/fleet", {
      token: TOKEN,
      body: { args: ["ping"], where: { rol: "web" } },
      headers: { prefer: "respond-async" },
    });
    if (a.status === 202) {
      await waitFor("the job to end", async () => (await jobState(a.json["jobId"])) !== "running");
      assert.equal(await jobState(a.json["jobId"]), "failed");
    } else {
      assert.equal(a.status, 422, a.text);
      assert.equal((a.json["error"] as Record<string, unknown>)["code"], "E_NO_MATCH");
      if (a.json["jobId"] !== undefined) assert.equal(await jobState(a.json["jobId"]), "failed");
    }
    const jobs = await http.call("GET", "/jobs", { token: TOKEN });
    assert.equal(jobs.status, 200, jobs.text);
    assert.doesNotMatch(jobs.text, /"state":"succeeded"/);
    await sleep(200);
    assert.deepEqual(published, [], "nothing published");
    // The spy and the route do work: a filter that matches is sent and answered.
    const ok = await http.call("POST", "/fleet", {
      token: TOKEN,
      body: { args: ["ping"], where: { role: "web" } },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((ok.json["summary"] as Record<string, unknown>)["allOk"], true);
    assert.match(String(ok.json["message"]), /^web01: pong$/);
    await waitFor("the request on the channel", () => published.length === 1);
    // …and is listed as a job, so the refused ones above would have been seen there.
    assert.equal(await jobState(ok.json["jobId"]), "succeeded");
    const listed = await http.call("GET", "/jobs", { token: TOKEN });
    assert.equal((listed.text.match(/"state":"succeeded"/g) ?? []).length, 1, listed.text);
  });

  test("SET nodes garbage with the agent login: GET /nodes and POST /fleet still answer, naming every host", async () => {
    let allowed = true;
    try {
      await fleet.attacker.set(names.nodeIndex, "garbage");
    } catch (err) {
      assert.match(String(err), /NOPERM/);
      allowed = false;
    }
    const before = rejected(c.metrics, "controller", "malformed_registry");
    const nodes = await http.call("GET", "/nodes", { token: TOKEN });
    assert.equal(nodes.status, 200, nodes.text);
    const listed = nodes.json["nodes"] as { hostname: string; state: string }[];
    assert.deepEqual(
      listed.map((n) => [n.hostname, n.state]),
      [
        ["db01", "accepted"],
        ["web01", "accepted"],
      ],
    );
    if (allowed) assert.ok(rejected(c.metrics, "controller", "malformed_registry") > before);
    if (allowed) await fleet.attacker.set(names.nodeIndex, "garbage");
    const r = await http.call("POST", "/fleet", { token: TOKEN, body: { args: ["ping"] } });
    assert.equal(r.status, 200, r.text);
    const summary = r.json["summary"] as Record<string, unknown>;
    assert.equal(summary["allOk"], true);
    assert.equal(summary["ok"], 2);
    assert.deepEqual(String(r.json["message"]).split("\n"), ["db01: pong", "web01: pong"]);
  });
});
