import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ircLower } from "../../transports/irc/mask.ts";
import {
  addressedCommand,
  sameNick,
  type IncomingMessage,
} from "../../transports/irc/addressing.ts";

const ctx = { nicks: ["commodore"], prefix: "!", channelTypes: "#&" };
const chan = (text: string, nick = "alice"): IncomingMessage => ({
  kind: "privmsg",
  nick,
  target: "#ops",
  text,
});

describe("addressedCommand", () => {
  test("nick followed by colon or comma, any case", () => {
    assert.deepEqual(addressedCommand(chan("commodore: fleet uptime"), ctx), {
      command: "fleet uptime",
      private: false,
      replyTo: "#ops",
    });
    assert.equal(addressedCommand(chan("Commodore, fleet ping"), ctx)?.command, "fleet ping");
    assert.equal(addressedCommand(chan("COMMODORE:fleet ping"), ctx)?.command, "fleet ping");
  });

  test("configured prefix", () => {
    assert.equal(addressedCommand(chan("!fleet uptime"), ctx)?.command, "fleet uptime");
    assert.equal(addressedCommand(chan("!fleet uptime"), { ...ctx, prefix: "" }), undefined);
  });

  test("ordinary channel chatter is ignored", () => {
    assert.equal(addressedCommand(chan("commodore is great"), ctx), undefined);
    assert.equal(addressedCommand(chan("bob: fleet uptime"), ctx), undefined);
    assert.equal(addressedCommand(chan("commodore:   "), ctx), undefined);
    assert.equal(addressedCommand(chan("!"), ctx), undefined);
  });

  test("private messages need no prefix and reply to the sender", () => {
    const pm: IncomingMessage = {
      kind: "privmsg",
      nick: "alice",
      target: "commodore",
      text: "help",
    };
    assert.deepEqual(addressedCommand(pm, ctx), {
      command: "help",
      private: true,
      replyTo: "alice",
    });
    assert.equal(addressedCommand({ ...pm, text: "commodore: help" }, ctx)?.command, "help");
  });

  test("own messages, NOTICEs, actions and CTCP are never commands", () => {
    assert.equal(addressedCommand(chan("!fleet uptime", "Commodore"), ctx), undefined);
    assert.equal(addressedCommand({ ...chan("!fleet uptime"), kind: "notice" }, ctx), undefined);
    assert.equal(addressedCommand({ ...chan("!fleet uptime"), kind: "action" }, ctx), undefined);
    const ctcp: IncomingMessage = {
      kind: "privmsg",
      nick: "a",
      target: "commodore",
      text: "\x01VERSION\x01",
    };
    assert.equal(addressedCommand(ctcp, ctx), undefined);
  });

  test("answers to a fallback nick as well as the configured one", () => {
    const c = { ...ctx, nicks: ["commodore_", "commodore"] };
    assert.equal(addressedCommand(chan("commodore_: fleet ping"), c)?.command, "fleet ping");
    assert.equal(addressedCommand(chan("!x", "commodore_"), c), undefined);
  });
});

describe("RFC 1459 case mapping", () => {
  test("brackets fold like letters", () => {
    assert.equal(ircLower("Nick[A]\\~"), "nick{a}|^");
    assert.equal(sameNick("ops[1]", "OPS{1}"), true);
    assert.equal(sameNick("alice", "alicia"), false);
  });
});
