import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Identity, hashToken } from "../../bot/identity/identity.ts";
import { globMatch } from "../../bot/identity/glob.ts";

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
      irc: { masks: ["*!bob@10.0.0.[0-9]"] },
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
  test("glob patterns", () => {
    assert.ok(globMatch("www*", "www01"));
    assert.ok(globMatch("db?", "db1"));
    assert.ok(!globMatch("db?", "db12"));
    assert.ok(globMatch("[!a-c]x", "dx"));
    assert.ok(!globMatch("[!a-c]x", "bx"));
    assert.ok(globMatch("a.b", "a.b") && !globMatch("a.b", "axb"));
    assert.ok(globMatch("(x)|y", "(x)|y"));
  });
});
