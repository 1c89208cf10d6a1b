/**
 * `commodore agent --metrics-listen` serves the agent's own counters (requests by outcome,
 * provider durations, rejections by reason) and prom-client's process and runtime metrics, to
 * a real scrape over HTTP while the agent serves a real controller.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { main } from "../../cli/main.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { waitFor } from "../harness/ports.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { context, names, spy } from "./helpers.ts";

describe("agent metrics endpoint", () => {
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet([]);
  });
  after(() => fleet.stop());

  test("serves agent counters and runtime metrics; a bad address is a usage error", async () => {
    const stop = new AbortController();
    let stderr = "";
    let stdout = "";
    const io = {
      stdout: (t: string) => void (stdout += t),
      stderr: (t: string) => void (stderr += t),
      env: {},
      signal: stop.signal,
    };
    const key = makeKey("ed25519", "metrics01");
    const running = main(
      [
        "agent",
        "--redis",
        fleet.redis.url,
        "--host-key",
        key.privatePath,
        "--allowed-signers",
        fleet.allowedSignersPath,
        "--hostname",
        "metrics01",
        "--metrics-listen",
        "127.0.0.1:0",
      ],
      io,
    );
    await waitFor("the agent to serve", () => stdout.includes("serving"));
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+\/metrics)"/.exec(stderr)?.[1];
    assert.ok(url, stderr);
    const controller = fleet.controller();
    const result = await controller.execute({ provider: "ping", args: [], where: {} }, context());
    assert.deepEqual(
      result.hosts.map((h) => [h.hostname, h.status]),
      [["metrics01", "ok"]],
    );
    const wire = await spy(fleet.redis.url);
    await wire.client.publish(names.requests, "{not json");
    await wire.close();
    let text = "";
    await waitFor("the rejection to be counted", async () => {
      text = await (await fetch(url)).text();
      return text.includes('reason="malformed_json"');
    });
    assert.match(text, /^commodore_fleet_agent_requests_total\{outcome="start"\} 1$/m);
    assert.match(text, /^commodore_fleet_agent_exec_seconds_count\{provider="ping"\} 1$/m);
    assert.match(
      text,
      /^commodore_fleet_rejected_total\{component="agent",reason="malformed_json"\} 1$/m,
    );
    for (const runtime of [
      "process_resident_memory_bytes",
      "process_open_fds",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
    ])
      assert.match(text, new RegExp(`^${runtime} `, "m"), runtime);
    assert.equal((await fetch(url.replace("/metrics", "/other"))).status, 404);
    stop.abort();
    assert.equal(await running, 0);

    let usage = "";
    const bad = await main(["agent", "--metrics-listen", "nowhere"], {
      ...io,
      stderr: (t) => void (usage += t),
    });
    assert.equal(bad, 64);
    assert.match(usage, /--metrics-listen for "agent" must be host:port/);
  });
});
