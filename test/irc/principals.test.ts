import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PrincipalDirectory } from "../../bot/identity/directory.ts";
import { compileIrcMask } from "../../transports/irc/mask.ts";
import { ircPrincipals } from "../../transports/irc/principals.ts";

const resolve = ircPrincipals(
  new PrincipalDirectory([
    {
      id: "alice",
      roles: ["ops"],
      irc: { accounts: ["Alice"], masks: ["alice!*@*.example.org"] },
    },
    { id: "bob", roles: [], irc: { masks: ["*!bob@10.0.0.?", "Bob[m]!*@*"] } },
    { id: "eve", roles: ["voice"] },
  ]),
);

describe("IRC principals", () => {
  test("services account first, then masks (case-insensitive)", () => {
    assert.equal(resolve({ nick: "x", ident: "y", hostname: "z", account: "alice" })?.id, "alice");
    const byMask = resolve({ nick: "ALICE", ident: "a", hostname: "shell.example.org" });
    assert.equal(byMask?.id, "alice");
    assert.equal(byMask?.display, "ALICE!a@shell.example.org");
    assert.equal(resolve({ nick: "b", ident: "bob", hostname: "10.0.0.7" })?.id, "bob");
    assert.equal(resolve({ nick: "b", ident: "bob", hostname: "10.0.0.77" }), undefined);
    assert.equal(
      resolve({ nick: "alice", ident: "a", hostname: "evil.example.org.attacker" }),
      undefined,
    );
  });

  test("masks fold RFC 1459 case on both sides; only * and ? are wildcards", () => {
    assert.equal(resolve({ nick: "bob{M}", ident: "x", hostname: "h" })?.id, "bob");
    assert.equal(resolve({ nick: "BOB[m]", ident: "x", hostname: "h" })?.id, "bob");
    assert.equal(resolve({ nick: "bobm", ident: "x", hostname: "h" }), undefined);
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
