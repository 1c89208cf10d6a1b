import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { accountFor, AccountTracker } from "../../transports/irc/identity.ts";
import { ChannelKeeper } from "../../transports/irc/channels.ts";
import { silentLogger } from "../../lib/log.ts";
import { FakeClock } from "./fake-clock.ts";

describe("accountFor", () => {
  const none = { accountTag: false, accountNotify: false, whox: undefined };

  test("the account tag wins when the server sends it", async () => {
    const t = new AccountTracker();
    t.set("alice", "mallory");
    const s = { ...none, accountTag: true, accountNotify: true };
    assert.equal(await accountFor("alice", "alice", s, t), "alice");
    assert.equal(await accountFor("alice", undefined, s, t), undefined, "no tag = not logged in");
  });

  test("the tracker is trusted only with account-notify", async () => {
    const t = new AccountTracker();
    t.set("Alice", "alice-acct");
    assert.equal(
      await accountFor("alice", undefined, { ...none, accountNotify: true }, t),
      "alice-acct",
    );
    assert.equal(await accountFor("alice", undefined, none, t), undefined);
    t.set("bob", false);
    let asked = 0;
    const whox = async () => (asked++, "bob-acct");
    assert.equal(
      await accountFor("bob", undefined, { ...none, accountNotify: true, whox }, t),
      undefined,
    );
    assert.equal(asked, 0, "known logged-out users are not queried");
  });

  test("falls back to WHOX and remembers the answer", async () => {
    const t = new AccountTracker();
    const whox = async (nick: string) => (nick === "carol" ? "carol-acct" : null);
    assert.equal(await accountFor("carol", undefined, { ...none, whox }, t), "carol-acct");
    assert.equal(t.get("CAROL"), "carol-acct");
    assert.equal(await accountFor("dave", undefined, { ...none, whox }, t), undefined);
    assert.equal(t.get("dave"), null);
  });

  test("nick changes carry the account, quits forget it", () => {
    const t = new AccountTracker();
    t.set("alice", "a");
    t.rename("alice", "alice_away");
    assert.equal(t.get("alice"), undefined);
    assert.equal(t.get("alice_away"), "a");
    t.forget("alice_away");
    assert.equal(t.get("alice_away"), undefined);
    t.set("x", "*");
    assert.equal(t.get("x"), null);
  });
});

describe("ChannelKeeper", () => {
  function setup(rejoinOnKick: boolean) {
    const clock = new FakeClock();
    const joins: string[] = [];
    const keeper = new ChannelKeeper({
      channels: [{ name: "#ops", key: "sekrit" }, { name: "#Fleet" }],
      rejoinOnKick,
      backoff: { baseMs: 1_000, capMs: 8_000 },
      join: (name, key) => joins.push(key === undefined ? name : `${name} ${key}`),
      schedule: clock.schedule,
      logger: silentLogger,
    });
    return { clock, joins, keeper };
  }

  test("joins every channel, with keys, on registration", () => {
    const { joins, keeper } = setup(true);
    keeper.registered();
    assert.deepEqual(joins, ["#ops sekrit", "#Fleet"]);
    keeper.selfJoined("#OPS");
    assert.equal(keeper.isJoined("#ops"), true);
  });

  test("rejoins after a kick with backoff when configured", () => {
    const { clock, joins, keeper } = setup(true);
    keeper.registered();
    keeper.selfJoined("#ops");
    keeper.selfKicked("#ops", "op", "bye");
    assert.equal(keeper.isJoined("#ops"), false);
    clock.advance(8_000);
    assert.deepEqual(joins.slice(2), ["#ops sekrit"]);
  });

  test("stays out after a kick when not configured, until the next connection", () => {
    const { clock, joins, keeper } = setup(false);
    keeper.registered();
    keeper.selfJoined("#ops");
    keeper.selfJoined("#fleet");
    keeper.selfKicked("#ops", "op", "bye");
    clock.advance(60_000);
    keeper.check();
    assert.equal(joins.length, 2);
    keeper.registered();
    assert.equal(joins.length, 4);
  });

  test("periodic check retries channels it is not in", () => {
    const { joins, keeper } = setup(true);
    keeper.registered();
    keeper.selfJoined("#ops");
    keeper.check();
    assert.deepEqual(joins.slice(2), ["#Fleet"]);
  });
});
