import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Identity, hashToken } from "../../bot/identity/identity.ts";
import { compileIrcMask } from "../../bot/identity/irc-mask.ts";

const identity = new Identity(
  [
    {
      id: "alice",
      roles: ["ops"],
      irc: { accounts: ["Alice"], masks: ["alice!*@*.example.org"] },
      http: { tokenSha256: hashToken("a-token") },
    },
    {
      id: "bob",
      roles: [],
      irc: { masks: ["*!bob@10.0.0.?", "Bob[m]!*@*"] },
      http: { tokenEnv: "BOB_TOKEN" },
    },
    { id: "eve", roles: ["voice"], voice: { applicationId: "app-1", userId: "user-9" } },
  ],
  { BOB_TOKEN: "b-token" },
);

describe("identity", () => {
  test("IRC: services account first, then masks (case-insensitive)", () => {
    assert.equal(
      identity.fromIrc({ nick: "x", user: "y", host: "z", account: "alice" })?.id,
      "alice",
    );
    const byMask = identity.fromIrc({ nick: "ALICE", user: "a", host: "shell.example.org" });
    assert.equal(byMask?.id, "alice");
    assert.equal(byMask?.display, "ALICE!a@shell.example.org");
    assert.equal(identity.fromIrc({ nick: "b", user: "bob", host: "10.0.0.7" })?.id, "bob");
    assert.equal(identity.fromIrc({ nick: "b", user: "bob", host: "10.0.0.77" }), undefined);
    assert.equal(
      identity.fromIrc({ nick: "alice", user: "a", host: "evil.example.org.attacker" }),
      undefined,
    );
  });
  test("HTTP tokens by hash or environment variable", () => {
    assert.equal(identity.fromHttpToken("a-token")?.id, "alice");
    assert.equal(identity.fromHttpToken("a-token")?.display, "token:alice");
    assert.equal(identity.fromHttpToken("b-token")?.id, "bob");
    assert.equal(identity.fromHttpToken("a-tokeN"), undefined);
    assert.equal(identity.fromHttpToken(""), undefined);
  });
  test("voice application and user", () => {
    assert.equal(identity.fromVoice("app-1", "user-9")?.id, "eve");
    assert.equal(identity.fromVoice("app-1", "user-8"), undefined);
  });
  test("a token variable that is not set is a configuration error naming it", () => {
    assert.throws(
      () => new Identity([{ id: "x", roles: [], http: { tokenEnv: "NOPE" } }], {}),
      /principals\[0\]\.http\.tokenEnv names NOPE/,
    );
  });
  test("IRC masks fold RFC 1459 case on both sides; only * and ? are wildcards", () => {
    assert.equal(identity.fromIrc({ nick: "bob{M}", user: "x", host: "h" })?.id, "bob");
    assert.equal(identity.fromIrc({ nick: "BOB[m]", user: "x", host: "h" })?.id, "bob");
    assert.equal(identity.fromIrc({ nick: "bobm", user: "x", host: "h" }), undefined);
    const mask = compileIrcMask("ops[1]\\~!*@*.Example.ORG");
    assert.ok(mask.matches("OPS{1}|^!u@shell.example.org"));
    assert.ok(mask.matches("ops[1]\\~!u@A.EXAMPLE.org"));
    assert.ok(!mask.matches("ops1!u@a.example.org"), "[1] is literal, not a class");
    assert.ok(compileIrcMask("a?c!*@*").matches("abc!u@h"));
    assert.ok(!compileIrcMask("a.c!*@*").matches("abc!u@h"), "a dot is a dot");
    assert.ok(!compileIrcMask("(x)|y!*@*").matches("x!u@h"), "no regex syntax");
  });

  test("a mask that would backtrack exponentially in a regex engine finishes", () => {
    const hostile = compileIrcMask(`${"*?".repeat(40)}!*@*`);
    assert.equal(hostile.matches(`${"a".repeat(200)}#u@h`), false);
  });
});
