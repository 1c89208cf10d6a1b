/** Answering inside the deadline: finished jobs are spoken, running ones report their job id. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../lib/log.ts";
import { HANDLER_FAILED, runWithDeadline } from "../../transports/voice/run.ts";
import { waitFor } from "../harness/ports.ts";
import { makeTestPki } from "../harness/test-ca.ts";
import { ALICE, envelope, FakeBot, startWebhook } from "./fixtures.ts";

const invocation = {
  principal: ALICE,
  transport: "voice" as const,
  text: "fleet uptime where role=web",
};

describe("runWithDeadline", () => {
  test("a job finishing in time is answered with its events", async () => {
    const state = await runWithDeadline(new FakeBot(), invocation, 5_000, silentLogger);
    assert.equal(state.kind, "finished");
    assert.deepEqual(state.kind === "finished" && state.events.map((e) => e.type), [
      "accepted",
      "result",
    ]);
  });

  test("a job still running at the deadline reports its id and keeps running", async () => {
    const bot = new FakeBot();
    let release = () => {};
    bot.hold = new Promise<void>((resolve) => (release = resolve));
    const state = await runWithDeadline(bot, invocation, 50, silentLogger);
    assert.deepEqual(state, { kind: "running", jobId: "j1" });
    assert.equal(bot.completed, 0);
    release();
    await waitFor("the job to finish", () => bot.completed === 1);
  });

  test("a handler that throws becomes an error event", async () => {
    const broken = { handle: () => Promise.reject(new Error("boom")) };
    const state = await runWithDeadline(broken, invocation, 5_000, silentLogger);
    assert.deepEqual(
      state.kind === "finished" && state.events.map((e) => e.type === "error" && e.code),
      [HANDLER_FAILED],
    );
  });

  test("the webhook answers with the job id when the deadline passes", async () => {
    const now = Date.now();
    const hook = await startWebhook(makeTestPki(now), now, { answerDeadlineMs: 100 });
    try {
      let release = () => {};
      hook.bot.hold = new Promise<void>((resolve) => (release = resolve));
      const intent = { name: "GetUptime", slots: { role: { name: "role", value: "db" } } };
      const res = await hook.post(JSON.stringify(envelope(now, { intent })));
      const response = res.json["response"] as { outputSpeech: { text: string } };
      assert.equal(response.outputSpeech.text, "I started job j1; it is still running.");
      release();
      await waitFor("the job to finish", () => hook.bot.completed === 1);
    } finally {
      await hook.close();
    }
  });
});
