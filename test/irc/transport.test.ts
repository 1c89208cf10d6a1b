/**
 * The IRC transport against a REAL ngIRCd, with real irc-framework clients in the channel.
 * The bot core is replaced by a scripted CommandHandler that emits realistic BotEvents.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { BotEvent } from "../../bot/contract.ts";
import type { TestIrcClient } from "../harness/irc-client.ts";
import { waitFor } from "../harness/ports.ts";
import { fleetEvents, fleetResult, okHosts, ScriptedHandler, uptimeShort } from "./fixtures.ts";
import { BOT, CHANNEL, ircWorld, type IrcWorld } from "./world.ts";

const INJECTION = "ok\r\nPRIVMSG #ops :pwned\r\nJOIN #evil\r\n\u0001ACTION waves\u0001";

function script(text: string): BotEvent[] {
  switch (text) {
    case "fleet uptime":
      return fleetEvents(
        "j1",
        text,
        fleetResult("uptime", [
          { hostname: "www01", status: "ok", exit: 0, short: uptimeShort(5, "0.16, 0.20, 0.17") },
          { hostname: "www02", status: "ok", exit: 0, short: uptimeShort(3, "0.01, 0.02, 0.03") },
          { hostname: "www03", status: "ok", exit: 0, short: uptimeShort(9, "1.50, 1.20, 0.90") },
        ]),
      );
    case "fleet restart nginx":
      return [
        {
          type: "error",
          code: "E_PERMISSION_DENIED",
          message: "alice may not run fleet restart",
          hint: "ask an admin for role ops",
        },
      ];
    case "fleet facts": {
      const hosts = okHosts(12, "").map((h, i) => ({ ...h, short: `role=web dc=par${i}` }));
      return fleetEvents("j13", text, fleetResult("facts", hosts));
    }
    case "fleet inject":
      return fleetEvents("j66", text, fleetResult("ping", okHosts(1, INJECTION)));
    case "help":
      return [
        {
          type: "result",
          ok: true,
          result: {
            kind: "text",
            title: "commands",
            lines: ["fleet <provider> [where k=v]", "more <job>"],
          },
        },
      ];
    default:
      return [{ type: "error", code: "E_UNKNOWN_COMMAND", message: `unknown command ${text}` }];
  }
}

describe("IRC transport on a real ngIRCd", () => {
  let world: IrcWorld;
  let alice: TestIrcClient;
  let squatter: TestIrcClient;
  let nickserv: TestIrcClient;
  const handler = new ScriptedHandler(script);
  const bot = () => world.bot;

  before(async () => {
    world = await ircWorld();
    alice = await world.connect("alice");
    await alice.join(CHANNEL); // first in: alice is channel operator
    squatter = await world.connect(BOT); // someone already has the bot's nick
    await squatter.join(CHANNEL);
    nickserv = await world.connect("NickServ"); // ngIRCd has no services; a client stands in
    process.env.COMMODORE_TEST_NICKSERV = "s3cret";
    await world.startBot(handler, {
      flood: { burst: 4, perSecond: 3 },
      nickserv: { passwordEnv: "COMMODORE_TEST_NICKSERV" },
    });
  });

  after(async () => world?.close());

  test("takes a fallback nick on collision and reclaims its own later", async () => {
    assert.equal(bot().nick, `${BOT}_`);
    alice.say(CHANNEL, `${BOT}_: fleet restart nginx`);
    await alice.waitForLines(`${BOT}_`, /^alice: alice may not run/);
    assert.deepEqual(nickserv.from(`${BOT}_`), [], "no IDENTIFY under a fallback nick");
    await squatter.quit();
    await waitFor("nick reclaimed", () => bot().nick === BOT);
    await nickserv.waitForLines(BOT, /^IDENTIFY commodore s3cret$/);
  });

  test("fleet uptime across three agents, answered in the channel with the caller's nick", async () => {
    alice.say(CHANNEL, `${BOT}: fleet uptime`);
    const lines = await alice.waitForLines(BOT, /^alice: uptime on 3 hosts/);
    assert.equal(lines.length, 1);
    const all = alice.from(BOT, CHANNEL);
    const start = all.indexOf("alice: waiting for acknowledgements from 3 hosts");
    assert.ok(start >= 0, all.join("\n"));
    assert.deepEqual(all.slice(start), [
      "alice: waiting for acknowledgements from 3 hosts",
      "alice: got 3/3 acknowledgements",
      `alice: www01: ${uptimeShort(5, "0.16, 0.20, 0.17")}`,
      `alice: www02: ${uptimeShort(3, "0.01, 0.02, 0.03")}`,
      `alice: www03: ${uptimeShort(9, "1.50, 1.20, 0.90")}`,
      "alice: uptime on 3 hosts: 3 ok (1.2 s)",
    ]);
    assert.equal(handler.invocations.at(-1)?.principal.id, "alice");
    assert.equal(handler.invocations.at(-1)?.origin, CHANNEL);
  });

  test("a refused command is shown with its code and hint; strangers are turned away", async () => {
    alice.say(CHANNEL, "!fleet restart nginx");
    await alice.waitForLines(
      BOT,
      /^alice: alice may not run fleet restart \(E_PERMISSION_DENIED; ask an admin for role ops\)$/,
    );
    const mallory = await world.connect("mallory");
    await mallory.join(CHANNEL);
    const before = handler.invocations.length;
    mallory.say(CHANNEL, "!fleet uptime");
    await mallory.waitForLines(
      BOT,
      /^mallory: I don't know mallory!~?mallory@127\.0\.0\.1; ask an operator/,
    );
    assert.equal(handler.invocations.length, before, "unknown users never reach the bot");
    await mallory.quit();
  });

  test("help and private messages answer privately without a prefix", async () => {
    alice.say(CHANNEL, `${BOT}, help`);
    await alice.waitForLines(BOT, /^alice: help sent by private message$/);
    await waitFor("help by PM", () => alice.from(BOT, "alice").includes("more <job>"));
    assert.deepEqual(alice.from(BOT, "alice").slice(-3), [
      "commands",
      "fleet <provider> [where k=v]",
      "more <job>",
    ]);
    alice.say(BOT, "fleet restart nginx");
    await waitFor("PM reply", () =>
      alice.from(BOT, "alice").some((l) => l.startsWith("alice may not run")),
    );
  });

  test("long output turns into a summary and a link; `more` sends the full text privately", async () => {
    alice.say(CHANNEL, "!fleet facts");
    await alice.waitForLines(BOT, /^alice: facts on 12 hosts: 12 ok/);
    await alice.waitForLines(
      BOT,
      /^alice: full output: https:\/\/commodore\.test\/jobs\/j13\?for=alice \(or say "!more j13" for all 13 lines by private message\)$/,
    );
    assert.ok(
      !alice.from(BOT, CHANNEL).some((l) => l.includes("dc=par")),
      "no host lines in channel",
    );
    alice.say(CHANNEL, "!more j13");
    await alice.waitForLines(BOT, /^alice: sent 13 lines of job j13 by private message$/);
    await waitFor("13 PM lines", () =>
      alice.from(BOT, "alice").includes("facts on 12 hosts: 12 ok (1.2 s)"),
    );
    const pm = alice.from(BOT, "alice");
    const first = pm.indexOf("www01: role=web dc=par0");
    assert.equal(pm.length - first, 13);
    alice.say(CHANNEL, "!more nope");
    await alice.waitForLines(
      BOT,
      /^alice: no stored output for job nope \(it may have expired\); see https/,
    );
  });

  test("agent output cannot inject IRC commands", async () => {
    await alice.join("#evil");
    const rawBefore = alice.raw.length;
    alice.say(CHANNEL, "!fleet inject");
    const [line] = await alice.waitForLines(BOT, /^alice: www01: ok/);
    assert.equal(line, "alice: www01: ok ↵ PRIVMSG #ops :pwned ↵ JOIN #evil ↵ ␁ACTION waves␁");
    await alice.waitForLines(BOT, /^alice: ping on 1 host/);
    const fromBot = alice.raw.slice(rawBefore).filter((l) => l.startsWith(`:${BOT}!`));
    assert.ok(
      fromBot.every((l) => / PRIVMSG #ops :alice: /.test(l)),
      fromBot.join("\n"),
    );
    assert.ok(!alice.messages.some((m) => m.text === "pwned" || m.target === "#evil"));
    assert.ok(!bot().inChannel("#evil"));
  });

  test("rejoins after a kick", async () => {
    alice.client.raw("KICK", CHANNEL, BOT, "testing rejoin");
    await waitFor("kicked", () => !bot().inChannel(CHANNEL));
    await waitFor("rejoined", () => bot().inChannel(CHANNEL));
  });

  test("reconnects and rejoins after the server restarts", async () => {
    await world.ircd.stop();
    await waitFor("bot noticed", () => !bot().connected);
    await world.ircd.restart();
    await waitFor("bot back in channel", () => bot().inChannel(CHANNEL), 15_000);
    alice = await world.connect("alice");
    await alice.join(CHANNEL);
    alice.say(CHANNEL, "!fleet uptime");
    await alice.waitForLines(BOT, /^alice: uptime on 3 hosts: 3 ok/);
    assert.equal(bot().registrations, 2);
  });
});
