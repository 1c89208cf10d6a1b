import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { connectIrcClient, type TestIrcClient } from "../harness/irc-client.ts";
import {
  LEASE_CHANNEL,
  LEASE_NICK,
  startIrcReplica,
  type IrcReplica,
} from "../harness/irc-replica.ts";
import { startIrcd, type TestIrcd } from "../harness/ngircd.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { spawnTracked } from "../harness/process.ts";

/** The takeover bound the default lease settings promise. */
const TAKEOVER_BOUND_MS = 15_000;

/** Nicks starting with the bot's nick currently in the channel, as the server reports them. */
async function botsInChannel(alice: TestIrcClient): Promise<string[]> {
  const before = alice.raw.length;
  alice.client.raw(`NAMES ${LEASE_CHANNEL}`);
  await waitFor("NAMES reply", () => alice.raw.slice(before).some((l) => / 366 /.test(l)));
  return alice.raw
    .slice(before)
    .filter((l) => / 353 /.test(l))
    .flatMap((l) => (l.split(" :")[1] ?? "").split(" "))
    .map((n) => n.replace(/^[@+]/, ""))
    .filter((n) => n.startsWith(LEASE_NICK));
}

describe("IRC leadership across two bot replicas", () => {
  let redis: TestRedis;
  let ircd: TestIrcd;
  let alice: TestIrcClient;
  let first: ChildProcess;
  let second: IrcReplica;

  before(async () => {
    redis = await startRedis();
    ircd = await startIrcd();
    alice = await connectIrcClient(ircd.host, ircd.port, "alice");
    await alice.join(LEASE_CHANNEL);
    const spec = { redisUrl: redis.url, ircHost: ircd.host, ircPort: ircd.port };
    first = spawnTracked(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "fixtures/irc-replica.ts")],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, FIXTURE_REPLICA: JSON.stringify({ ...spec, id: "first" }) },
      },
    );
    let out = "";
    first.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    await waitFor("first replica started", () => out.includes("ready"));
    await waitFor("first replica in the channel", async () =>
      (await botsInChannel(alice)).includes(LEASE_NICK),
    );
    second = startIrcReplica({ ...spec, id: "second" });
  });

  after(async () => {
    if (first.exitCode === null) first.kill("SIGKILL");
    await second.stop();
    await alice.quit();
    await ircd.stop();
    await redis.stop(true);
  });

  test("only the lease holder is on IRC and answers", async () => {
    // Give the second replica a few acquisition attempts.
    await new Promise((r) => setTimeout(r, 3_500));
    assert.equal(second.leader.leader, false);
    assert.equal(second.leader.transport, undefined);
    assert.deepEqual(await botsInChannel(alice), [LEASE_NICK]);
    alice.say(LEASE_CHANNEL, `${LEASE_NICK}: ping`);
    await alice.waitForLines(LEASE_NICK, /pong from first/);
  });

  test("when the holder dies the other replica joins within 15 s and answers exactly once", async () => {
    const killedAt = Date.now();
    first.kill("SIGKILL");
    await waitFor(
      "second replica in the channel",
      async () => second.leader.leader && (await botsInChannel(alice)).includes(LEASE_NICK),
      TAKEOVER_BOUND_MS,
      200,
    );
    assert.ok(Date.now() - killedAt <= TAKEOVER_BOUND_MS);
    assert.deepEqual(await botsInChannel(alice), [LEASE_NICK]);
    alice.say(LEASE_CHANNEL, `${LEASE_NICK}: ping again`);
    await alice.waitForLines(LEASE_NICK, /pong from second/);
    // Anything else would have arrived by the time a second, later command is answered.
    alice.say(LEASE_CHANNEL, `${LEASE_NICK}: last`);
    await alice.waitForLines(LEASE_NICK, /pong from second/, 2);
    assert.deepEqual(
      alice.from(LEASE_NICK).filter((l) => l.includes("pong")),
      ["alice: pong from first", "alice: pong from second", "alice: pong from second"],
    );
  });
});
