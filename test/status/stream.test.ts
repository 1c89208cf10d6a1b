import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { hashToken } from "../../transports/http/tokens.ts";
import { jobEventsChannel } from "../../bot/jobs/redis-store.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { startTestStatus, type TestStatus } from "../harness/status.ts";

const CONFIG = {
  roles: { reader: { grants: [{ command: "job" }] } },
  principals: [{ id: "ci", roles: ["reader"], http: { tokenSha256: hashToken("ci-token") } }],
};
const AUTH = { authorization: "Bearer ci-token" };

/** An open event stream whose text accumulates in `text`. */
async function open(url: string) {
  const ctl = new AbortController();
  const res = await fetch(url, { headers: AUTH, signal: ctl.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const state = { text: "", done: false };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        state.text += decoder.decode(value, { stream: true });
      }
    } catch {
      // aborted by the test
    }
    state.done = true;
  })();
  return { state, abort: () => ctl.abort(), pump };
}

describe("job event stream over real Redis pub/sub", () => {
  let server: TestRedis;
  let redis: Redis;
  let ui: TestStatus;
  const streams = () => ui.bot.metrics.render().match(/^commodore_status_streams (\d+)/m)?.[1];

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-stream", logger: silentLogger });
    await waitReady(redis, server.url);
    ui = await startTestStatus(CONFIG, redis, undefined, {
      timing: { heartbeatMs: 150, maxStreamMs: 60_000 },
    });
  });
  after(async () => {
    await ui.close();
    await closeRedis(redis);
    await server.stop(true);
  });

  test("snapshot, live progress from another writer, heartbeats, end; drops on disconnect", async () => {
    const id = "j00000000abcd";
    const jobs = ui.bot.jobs;
    await jobs.create({
      id,
      text: "fleet uptime",
      command: "fleet",
      principal: "ci",
      transport: "http",
      state: "running",
      createdAt: new Date().toISOString(),
    });
    const progress = (hostname: string) => ({
      type: "fleet-progress" as const,
      jobId: id,
      progress: { kind: "noop" as const, hostname },
    });
    await jobs.addEvent(id, progress("before"));

    const first = await open(`${ui.base}/ui/jobs/${id}/events`);
    await waitFor("snapshot", () => first.state.text.includes("event: snapshot"));
    assert.ok(first.state.text.includes('"hostname":"before"'), "history is in the snapshot");
    await jobs.addEvent(id, progress("live1"));
    await waitFor("live progress", () => first.state.text.includes('"hostname":"live1"'));
    assert.equal(first.state.text.match(/"hostname":"before"/g)?.length, 1, "no duplicates");
    await waitFor("heartbeat", () => first.state.text.includes(": keep-alive"));

    const second = await open(`${ui.base}/ui/jobs/${id}/events`);
    await waitFor("second snapshot", () => second.state.text.includes("event: snapshot"));
    assert.equal(streams(), "2");
    second.abort();
    await second.pump;
    await waitFor("stream dropped", () => streams() === "1");

    await redis.publish(jobEventsChannel("commodore:", id), "not json");
    // A well-formed but unsealed message, as a Redis writer would plant it, is dropped too.
    await redis.publish(
      jobEventsChannel("commodore:", id),
      JSON.stringify({ type: "finished", state: "failed" }),
    );
    await jobs.finish(id, { state: "succeeded", finishedAt: new Date().toISOString() });
    await waitFor("end", () => first.state.done);
    assert.match(first.state.text, /event: end\ndata: .*"state":"succeeded"/);
    await waitFor("all streams closed", () => streams() === "0");
    const dropped = ui.bot.metrics.render();
    assert.match(dropped, /commodore_status_rejected_total\{reason="malformed_live_message"\} 2/);
    assert.doesNotMatch(
      first.state.text,
      /"state":"failed"/,
      "the planted end never reached the page",
    );
  });

  test("a finished job streams its snapshot and ends at once; a missing one is 404", async () => {
    const done = await open(`${ui.base}/ui/jobs/j00000000abcd/events`);
    await done.pump;
    assert.deepEqual(
      [...done.state.text.matchAll(/^event: (\w+)/gm)].map((m) => m[1]),
      ["snapshot", "end"],
    );
    const res = await fetch(`${ui.base}/ui/jobs/j0000000fffff/events`, { headers: AUTH });
    assert.equal(res.status, 404);
  });
});
