/**
 * 50 lines of output through a REAL ngIRCd with its default flood protection: the token
 * bucket keeps the bot connected and every line arrives, in order.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { TestIrcClient } from "../harness/irc-client.ts";
import { waitFor } from "../harness/ports.ts";
import { ScriptedHandler } from "./fixtures.ts";
import { BOT, CHANNEL, ircWorld, type IrcWorld } from "./world.ts";

const LINES = 50;
/** Long-ish lines, like real agent output, so the byte volume is realistic too. */
const line = (i: number) =>
  `line ${String(i + 1).padStart(2, "0")} ${"load average: 0.16, 0.20, 0.17 ".repeat(6)}`.trim();

let world: IrcWorld;
let alice: TestIrcClient;

before(async () => {
  world = await ircWorld();
  alice = await world.connect("alice");
  await alice.join(CHANNEL);
  const handler = new ScriptedHandler(() => [
    {
      type: "result",
      ok: true,
      result: { kind: "text", lines: Array.from({ length: LINES }, (_, i) => line(i)) },
    },
  ]);
  // ngIRCd processes about three commands per second from one client; stay within that.
  await world.startBot(handler, { flood: { burst: 4, perSecond: 3 } });
});

after(async () => world?.close());

test("50 lines by private message arrive in order without a flood disconnect", async () => {
  alice.say(BOT, "dump");
  const got = () => alice.from(BOT, "alice").filter((l) => l.startsWith("line "));
  await waitFor(`${LINES} lines`, () => got().length === LINES, 40_000);
  assert.deepEqual(
    got(),
    Array.from({ length: LINES }, (_, i) => line(i)),
  );
  assert.equal(world.bot.registrations, 1, "the bot never had to reconnect");
  assert.ok(world.bot.connected);
  assert.ok(!alice.raw.some((l) => / QUIT /.test(l) && l.startsWith(`:${BOT}!`)));
});
