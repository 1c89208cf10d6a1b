/**
 * The runtime's plug point: `commodore start` builds a list of transports and starts it in
 * order, stopping it in reverse (app/transports.ts `startTransports`).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTransports } from "../../app/transports.ts";
import type { Transport } from "../../bot/transport.ts";
import { createLogger, silentLogger } from "../../lib/log.ts";

/** A transport that records its calls in `calls`, failing where told to. */
function fake(
  name: string,
  calls: string[],
  fail: { start?: boolean; stop?: boolean } = {},
): Transport {
  return {
    name,
    async start() {
      calls.push(`start ${name}`);
      if (fail.start === true) throw new Error(`${name} cannot start`);
    },
    async stop() {
      calls.push(`stop ${name}`);
      if (fail.stop === true) throw new Error(`${name} cannot stop`);
    },
  };
}

describe("startTransports", () => {
  test("starts the list in order and stops it in reverse", async () => {
    const calls: string[] = [];
    const running = await startTransports(
      [fake("http", calls), fake("irc", calls), fake("extra", calls)],
      silentLogger,
    );
    assert.deepEqual(calls, ["start http", "start irc", "start extra"]);
    await running.stop();
    assert.deepEqual(calls.slice(3), ["stop extra", "stop irc", "stop http"]);
    await running.stop();
    assert.equal(calls.length, 6, "a second stop stops nothing again");
  });

  test("a failed start stops it and those before it, in reverse, and never starts the rest", async () => {
    const calls: string[] = [];
    await assert.rejects(
      startTransports(
        [fake("http", calls), fake("irc", calls, { start: true }), fake("extra", calls)],
        silentLogger,
      ),
      /irc cannot start/,
    );
    assert.deepEqual(calls, ["start http", "start irc", "stop irc", "stop http"]);
  });

  test("a transport that fails to stop is logged and the others still stop", async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", sink: (line) => lines.push(line) });
    const running = await startTransports(
      [fake("http", calls), fake("irc", calls, { stop: true })],
      logger,
    );
    await running.stop();
    assert.deepEqual(calls.slice(2), ["stop irc", "stop http"]);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /transport failed to stop/);
    assert.match(lines[0] ?? "", /"transport":"irc"/);
  });
});
