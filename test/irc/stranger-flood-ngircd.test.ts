/**
 * Strangers against a REAL ngIRCd: someone the bot does not know sends 50 commands; they get
 * one refusal, the other 49 are skipped and counted, and a known user's command issued during
 * the flood still gets its result. `more <job>` by a known user without a `job` grant is
 * refused; the job's owner gets the output.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { jobCommand } from "../../bot/commands/builtins/jobs.ts";
import { jobReadCheck } from "../../bot/commands/job-access.ts";
import { CommandRegistry } from "../../bot/commands/registry.ts";
import type { Principal } from "../../bot/contract.ts";
import type { JobStore } from "../../bot/jobs/types.ts";
import { Policy } from "../../bot/permissions/policy.ts";
import type { IrcUser } from "../../transports/irc/identity.ts";
import type { TestIrcClient } from "../harness/irc-client.ts";
import { waitFor } from "../harness/ports.ts";
import { fleetEvents, fleetResult, okHosts, ScriptedHandler, uptimeShort } from "./fixtures.ts";
import { BOT, CHANNEL, ircWorld, type IrcWorld } from "./world.ts";

const FLOOD = 50;
/** Below ngIRCd's throttle of about three commands a second, so its input buffer stays small. */
const FLOOD_GAP_MS = 250;
const ROLES: Readonly<Record<string, string[]>> = { alice: ["reader"], bob: [] };

function known(user: IrcUser): Principal | undefined {
  const roles = ROLES[user.nick];
  if (roles === undefined || user.hostname !== "127.0.0.1") return undefined;
  return { id: user.nick, roles, display: `${user.nick}!${user.ident}@${user.hostname}` };
}

const policy = new Policy({
  roles: { reader: { grants: [{ command: "job" }] } },
  defaultRoles: [],
});
const registry = new CommandRegistry().register(jobCommand({} as JobStore));

let world: IrcWorld;
let alice: TestIrcClient;
let bob: TestIrcClient;
let mallory: TestIrcClient;
const unknownUsers = () => world.metrics.counter("commodore_irc_unknown_users_total", "").get();
const skipped = (reason: string) =>
  world.metrics.counter("commodore_irc_stranger_refusals_skipped_total", "").get({ reason });

before(async () => {
  world = await ircWorld(known, jobReadCheck(policy, registry));
  alice = await world.connect("alice");
  await alice.join(CHANNEL);
  bob = await world.connect("bob");
  await bob.join(CHANNEL);
  mallory = await world.connect("mallory");
  await mallory.join(CHANNEL);
  const handler = new ScriptedHandler((text) => {
    if (text === "fleet facts") {
      const hosts = okHosts(12, "").map((h, i) => ({ ...h, short: `role=web dc=par${i}` }));
      return fleetEvents("j13", text, fleetResult("facts", hosts));
    }
    return fleetEvents(
      "j1",
      text,
      fleetResult("uptime", okHosts(3, uptimeShort(5, "0.16, 0.20, 0.17"))),
    );
  });
  await world.startBot(handler, { flood: { burst: 4, perSecond: 1 } });
});

after(async () => world?.close());

test("a stranger's 50 commands earn one refusal; a known user's command still gets its result", async () => {
  const flood = (async () => {
    for (let i = 0; i < FLOOD; i++) {
      mallory.say(CHANNEL, `!fleet uptime ${i}`);
      await new Promise((r) => setTimeout(r, FLOOD_GAP_MS));
    }
  })();
  await mallory.waitForLines(BOT, /^mallory: I don't know mallory!~?mallory@127\.0\.0\.1/);
  const seenBeforeAlice = unknownUsers();
  alice.say(CHANNEL, "!fleet uptime");
  assert.ok(seenBeforeAlice < FLOOD, "alice spoke while the flood was still arriving");
  await alice.waitForLines(BOT, /^alice: uptime on 3 hosts: 3 ok/, 1, 60_000);
  await flood;
  await waitFor("every stranger command handled", () => unknownUsers() === FLOOD, 60_000);
  assert.equal(skipped("repeat"), FLOOD - 1);
  assert.equal(
    mallory.from(BOT).filter((l) => l.includes("I don't know")).length,
    1,
    "exactly one refusal",
  );
  assert.equal(world.bot.registrations, 1, "the bot was never disconnected for flooding");
});

test("`more` needs the job permission; the job's owner may read their own output", async () => {
  alice.say(CHANNEL, "!fleet facts");
  await alice.waitForLines(BOT, /^alice: full output: .*!more j13/, 1, 60_000);
  bob.say(CHANNEL, "!more j13");
  await bob.waitForLines(BOT, /^bob: bob may not run "job" \(E_PERMISSION_DENIED; /, 1, 60_000);
  assert.ok(!bob.from(BOT, "bob").some((l) => l.includes("dc=par")), "nothing sent to bob");
  alice.say(CHANNEL, "!more j13");
  // At one line a second the 13 private lines go out first, then the channel reply.
  await alice.waitForLines(BOT, /^alice: sent 13 lines of job j13 by private message$/, 1, 60_000);
  assert.ok(alice.from(BOT, "alice").includes("facts on 12 hosts: 12 ok (1.2 s)"));
});
