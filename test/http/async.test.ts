/**
 * Asynchronous HTTP with real agents: `Prefer: respond-async` answers 202 with
 * `Location: /jobs/<id>` while the command still runs; `GET /jobs/:id/events` streams its
 * progress to an API client with a token; `/openapi.json` describes the API and is a valid
 * OpenAPI 3 document whose request bodies are the routes' own schemas.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { Validator } from "@seriousme/openapi-schema-validator";
import { sleepProvider, startFleet, type TestFleet } from "../harness/agents.ts";
import { startTestStatus, type TestStatus } from "../harness/status.ts";

const TOKEN = "async-token";
const CONFIG = {
  bot: { providers: { sleep: { risk: "read" } } },
  roles: { ops: { grants: [{ command: "*" }] } },
  principals: [
    {
      id: "olga",
      roles: ["ops"],
      http: { tokenSha256: createHash("sha256").update(TOKEN).digest("hex") },
    },
  ],
};
const auth = { authorization: `Bearer ${TOKEN}` };

describe("asynchronous HTTP API (real agents, real Redis)", () => {
  let fleet: TestFleet;
  let redis: Redis;
  let ui: TestStatus;
  before(async () => {
    fleet = await startFleet(
      ["a1", "a2"].map((hostname) => ({ hostname, providers: [sleepProvider()] })),
    );
    redis = new Redis(fleet.redis.url);
    ui = await startTestStatus(CONFIG, redis, fleet.controller());
  });
  after(async () => {
    await ui.close();
    redis.disconnect();
    await fleet.stop();
  });

  test("Prefer: respond-async answers 202 with Location before the job ends; its events stream to the client", async () => {
    const t0 = Date.now();
    const res = await fetch(`${ui.base}/fleet`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ args: ["sleep", "600"] }),
    });
    const body = (await res.json()) as { jobId: string };
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(res.headers.get("location"), `/jobs/${body.jobId}`);
    assert.equal(res.headers.get("preference-applied"), "respond-async");
    assert.ok(Date.now() - t0 < 600, "answered before the 600 ms provider finished");
    const stream = await fetch(`${ui.base}/jobs/${body.jobId}/events`, { headers: auth });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get("content-type") ?? "", /^text\/event-stream/);
    const text = await stream.text();
    assert.match(text, /^event: snapshot/m);
    assert.match(text, /^event: end\ndata: .*"state":"succeeded"/m);
    const job = await fetch(`${ui.base}/jobs/${body.jobId}`, { headers: auth });
    assert.equal(job.status, 200);
    const noToken = await fetch(`${ui.base}/jobs/${body.jobId}/events`);
    assert.equal(noToken.status, 401);
  });

  test("a refused asynchronous command answers at once with its error", async () => {
    const res = await fetch(`${ui.base}/commands`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ command: "no-such-command" }),
    });
    assert.equal(res.status, 400);
    assert.equal(
      ((await res.json()) as { error: { code: string } }).error.code,
      "E_UNKNOWN_COMMAND",
    );
  });

  test("/openapi.json is a valid OpenAPI 3 document built from the routes' schemas", async () => {
    const res = await fetch(`${ui.base}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      paths: Record<
        string,
        {
          post?: { requestBody?: { content: Record<string, { schema: { properties?: object } }> } };
        }
      >;
    };
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    const fleetProps =
      doc.paths["/fleet"]?.post?.requestBody?.content["application/json"]?.schema.properties;
    assert.deepEqual(
      Object.keys(fleetProps ?? {}).sort(),
      [
        "args",
        "batch",
        "batchWait",
        "filter",
        "hosts",
        "limit",
        "stopAfterFailures",
        "where",
      ].sort(),
    );
    for (const path of ["/commands", "/jobs/{id}/rerun", "/jobs/{id}/events", "/nodes/pending"])
      assert.ok(doc.paths[path], `${path} is described`);
  });
});
