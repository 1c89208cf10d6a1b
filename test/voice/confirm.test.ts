/**
 * Intent confirmation for change commands over a real HTTP socket: a full round trip
 * (ConfirmIntent, then CONFIRMED runs the command), a denied one, and the refusals.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { makeTestPki } from "../harness/test-ca.ts";
import { envelope, GUEST_USER, startWebhook } from "./fixtures.ts";
import type { Webhook } from "./fixtures.ts";

const NOW = Date.parse("2030-06-01T08:00:00Z");
const restart = (confirmationStatus: string) => ({
  name: "RestartService",
  confirmationStatus,
  slots: {
    service: {
      name: "service",
      value: "engine x",
      resolutions: {
        resolutionsPerAuthority: [
          {
            authority: "a",
            status: { code: "ER_SUCCESS_MATCH" },
            values: [{ value: { name: "engine x", id: "NGINX" } }],
          },
        ],
      },
    },
  },
});

interface Answer {
  sessionAttributes?: Record<string, unknown>;
  response: {
    outputSpeech?: { text: string };
    directives?: { type: string; updatedIntent: { name: string; confirmationStatus: string } }[];
    shouldEndSession?: boolean;
  };
}

describe("voice intent confirmation", () => {
  let hook: Webhook;
  before(async () => {
    hook = await startWebhook(makeTestPki(NOW), NOW);
  });
  after(async () => await hook.close());

  const ask = async (parts: Parameters<typeof envelope>[1]): Promise<Answer> => {
    const res = await hook.post(JSON.stringify(envelope(NOW, parts)));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json as unknown as Answer;
  };

  test("a full confirmation round trip runs the change once", async () => {
    const first = await ask({ intent: restart("NONE") });
    assert.equal(hook.bot.invocations.length, 0, "nothing runs before confirmation");
    assert.equal(first.response.shouldEndSession, false);
    assert.equal(first.response.directives?.[0]?.type, "Dialog.ConfirmIntent");
    assert.equal(first.response.directives?.[0]?.updatedIntent.name, "RestartService");
    assert.equal(
      first.response.outputSpeech?.text,
      "Should I run fleet restart nginx where role=web?",
    );

    const second = await ask({
      intent: restart("CONFIRMED"),
      attributes: first.sessionAttributes ?? {},
    });
    assert.equal(hook.bot.invocations.length, 1);
    assert.equal(hook.bot.invocations[0]?.text, "fleet restart nginx where role=web");
    assert.equal(hook.bot.invocations[0]?.principal.id, "alice");
    assert.equal(second.response.outputSpeech?.text, "3 of 3 web servers answered.");
    assert.equal(second.response.shouldEndSession, true);
  });

  test("a denied confirmation runs nothing", async () => {
    const ran = hook.bot.invocations.length;
    const first = await ask({ intent: restart("NONE") });
    const second = await ask({
      intent: restart("DENIED"),
      attributes: first.sessionAttributes ?? {},
    });
    assert.equal(second.response.outputSpeech?.text, "Okay, cancelled.");
    assert.equal(hook.bot.invocations.length, ran);
  });

  test("CONFIRMED without the pending command in the session asks again", async () => {
    const ran = hook.bot.invocations.length;
    const answer = await ask({
      intent: restart("CONFIRMED"),
      attributes: { commodorePendingCommand: "fleet restart nginx where role=db" },
    });
    assert.equal(answer.response.directives?.[0]?.type, "Dialog.ConfirmIntent");
    assert.equal(hook.bot.invocations.length, ran);
  });

  test("the read-only principal may not make changes", async () => {
    const answer = await ask({ intent: restart("CONFIRMED"), userId: GUEST_USER });
    assert.equal(answer.response.outputSpeech?.text, "This account may not make changes by voice.");
    assert.equal(answer.response.directives, undefined);
  });

  test("dangerous commands are refused by default", async () => {
    const ran = hook.bot.invocations.length;
    const intent = {
      name: "RebootServers",
      confirmationStatus: "CONFIRMED",
      slots: { role: { name: "role", value: "web" } },
    };
    const answer = await ask({ intent });
    assert.equal(
      answer.response.outputSpeech?.text,
      "That command is too dangerous to run by voice.",
    );
    assert.equal(hook.bot.invocations.length, ran);
  });
});
