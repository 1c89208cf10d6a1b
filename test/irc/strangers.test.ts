/**
 * Unit tests for the IRC front door: one refusal a minute per stranger (bounded memory), the
 * send queue's stranger lane (lowest priority, capped, drops counted), and `more <job>`
 * checking the same permission as `job`.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { jobCommand } from "../../bot/commands/builtins/jobs.ts";
import { jobReadCheck } from "../../bot/commands/job-access.ts";
import { CommandRegistry } from "../../bot/commands/registry.ts";
import type { JobStore } from "../../bot/jobs/types.ts";
import { Policy } from "../../bot/permissions/policy.ts";
import { SendQueue, TokenBucket, type OutgoingLine } from "../../transports/irc/flood.ts";
import { moreCommand } from "../../transports/irc/more.ts";
import { OutputCache } from "../../transports/irc/output-cache.ts";
import {
  MAX_TRACKED_STRANGERS,
  STRANGER_REFUSAL_INTERVAL_MS,
  StrangerGate,
} from "../../transports/irc/strangers.ts";
import { who } from "../harness/bot.ts";
import { FakeClock } from "./fake-clock.ts";

describe("StrangerGate", () => {
  test("one refusal per minute per nick, and per user@host across nick changes", () => {
    const clock = new FakeClock();
    const gate = new StrangerGate(clock.now);
    assert.equal(gate.check("mallory", "~m", "10.0.0.1"), "refuse");
    for (let i = 0; i < 49; i++) assert.equal(gate.check("Mallory", "~m", "10.0.0.1"), "repeat");
    assert.equal(gate.check("mallory2", "~m", "10.0.0.1"), "repeat", "same user@host");
    assert.equal(gate.check("MALLORY", "~other", "10.0.0.9"), "repeat", "same nick (folded)");
    assert.equal(gate.check("eve", "~e", "10.0.0.2"), "refuse", "someone else");
    clock.advance(STRANGER_REFUSAL_INTERVAL_MS);
    assert.equal(gate.check("mallory", "~m", "10.0.0.1"), "refuse", "a minute later");
  });

  test("memory is bounded: beyond the limit newcomers get nothing until entries expire", () => {
    const clock = new FakeClock();
    const gate = new StrangerGate(clock.now, 60_000, 6);
    for (let i = 0; i < 3; i++) assert.equal(gate.check(`n${i}`, "u", `h${i}`), "refuse");
    assert.equal(gate.check("n3", "u", "h3"), "full");
    assert.equal(gate.check("n0", "u", "h0"), "repeat");
    clock.advance(60_000);
    assert.equal(gate.check("n3", "u", "h3"), "refuse");
    assert.ok(MAX_TRACKED_STRANGERS >= 100);
  });
});

describe("SendQueue stranger lane", () => {
  function setup() {
    const clock = new FakeClock();
    const sent: string[] = [];
    const dropped: OutgoingLine[] = [];
    const strangerDropped: OutgoingLine[] = [];
    const queue = new SendQueue({
      bucket: new TokenBucket(1, 1, clock.now),
      send: (line) => sent.push(line.text),
      maxQueue: 10,
      onDrop: (line) => dropped.push(line),
      maxStrangerLines: 2,
      onStrangerDrop: (line) => strangerDropped.push(line),
      schedule: clock.schedule,
    });
    queue.resume();
    return { clock, sent, dropped, strangerDropped, queue };
  }

  test("known users' lines go first; stranger lines wait, are capped and never push others out", () => {
    const { clock, sent, dropped, strangerDropped, queue } = setup();
    queue.push({ target: "#ops", text: "first" });
    for (let i = 0; i < 50; i++)
      queue.push({ target: "#ops", text: `stranger ${i}`, stranger: true });
    queue.push({ target: "#ops", text: "alice: result" });
    queue.push({ target: "#ops", text: "alice: confirm abcdef" });
    clock.advance(10_000);
    assert.deepEqual(sent, [
      "first",
      "alice: result",
      "alice: confirm abcdef",
      "stranger 0",
      "stranger 1",
    ]);
    assert.equal(strangerDropped.length, 48);
    assert.deepEqual(dropped, []);
    assert.equal(queue.length, 0);
  });
});

describe("more <job> checks the job permission", () => {
  const store: JobStore = {} as JobStore;
  const registry = new CommandRegistry().register(jobCommand(store));
  const policy = new Policy({
    roles: { reader: { grants: [{ command: "job" }] }, other: { grants: [{ command: "jobs" }] } },
    defaultRoles: [],
  });
  const check = jobReadCheck(policy, registry);

  function run(principalId: string, roles: string[], command: string) {
    const cache = new OutputCache(10, 60_000);
    cache.put("j13", ["line 1", "line 2"], "alice");
    const replies: string[] = [];
    const privately: string[] = [];
    moreCommand(
      command,
      cache,
      (id) => `https://commodore.test/ui/jobs/${id}`,
      {
        reply: (l) => replies.push(...l),
        privately: (l) => privately.push(...l),
        isPrivate: false,
      },
      { principalId, denial: (id) => check(who(principalId, roles), id) },
    );
    return { replies, privately };
  }

  test("jobReadCheck answers like `job <id>` would", () => {
    assert.equal(check(who("carol", ["reader"]), "j13"), undefined);
    const denied = check(who("bob", ["other"]), "j13");
    assert.equal(denied?.code, "E_PERMISSION_DENIED");
    assert.match(denied?.message ?? "", /bob may not run "job"/);
  });

  test("a user without a job grant is refused, whether or not the output is stored", () => {
    for (const command of ["more j13", "more j99"]) {
      const { replies, privately } = run("bob", ["other"], command);
      assert.deepEqual(privately, []);
      assert.equal(replies.length, 1);
      assert.match(replies[0] ?? "", /^bob may not run "job" \(E_PERMISSION_DENIED; /);
    }
  });

  test("a user with the grant, and the job's owner, get the output", () => {
    const carol = run("carol", ["reader"], "more j13");
    assert.deepEqual(carol.privately, ["line 1", "line 2"]);
    assert.deepEqual(carol.replies, ["sent 2 lines of job j13 by private message"]);
    const alice = run("alice", [], "more j13");
    assert.deepEqual(alice.privately, ["line 1", "line 2"], "the owner needs no grant");
  });
});
