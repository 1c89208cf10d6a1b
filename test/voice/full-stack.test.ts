/**
 * Full stack by voice: signed requests (test PKI) to `/voice/alexa` on the HTTP server that
 * `startServices` runs, answered by the real bot from real agents on a real redis-server.
 * Only the certificate download is injected (the URL must be s3.amazonaws.com).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServices, type Services } from "../../app/services.ts";
import { configSchema } from "../../config/schema.ts";
import type { Provider } from "../../executors/fleet/providers/provider.ts";
import { silentLogger } from "../../lib/log.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { makeTestPki, type TestPki } from "../harness/test-ca.ts";
import { tempDir } from "../harness/tmp.ts";
import { ALICE_USER, APP_ID, CERT_URLS, envelope, GUEST_USER } from "./fixtures.ts";

/** A stand-in service restart on the web agents. */
const restartProvider: Provider = {
  name: "restart",
  timeoutMs: 5_000,
  run: async (args) => ({ exit: 0, short: `restarted ${args.join(" ")}` }),
};

interface Answer {
  sessionAttributes?: Record<string, unknown>;
  response: {
    outputSpeech?: { text: string };
    card?: { title: string; content: string };
    directives?: Array<{ type: string; updatedIntent: { name: string } }>;
    shouldEndSession?: boolean;
  };
}

const slot = (name: string, value: string) => ({ [name]: { name, value } });

describe("voice full stack: signed webhook, bot, real agents", () => {
  let fleet: TestFleet;
  let pki: TestPki;
  let services: Services;
  const fetched: string[] = [];

  before(async () => {
    pki = makeTestPki();
    const dir = tempDir("commodore-voice-stack-");
    const roots = join(dir, "roots.pem");
    writeFileSync(roots, pki.trustedRootsPem);
    fleet = await startFleet([
      { hostname: "www1", facts: { role: "web" }, providers: [restartProvider] },
      { hostname: "www2", facts: { role: "web" }, providers: [restartProvider] },
      { hostname: "db1", facts: { role: "db" } },
    ]);
    const config = configSchema.parse({
      redis: { url: fleet.redis.url },
      controller: {
        keyPath: fleet.controllerKey.privatePath,
        principal: "ops",
        ackTimeoutMs: 1_000,
        enrollment: "tofu", // the test's own agents, trusted on first sight
      },
      http: { listen: "127.0.0.1:0" },
      // facts is read-only by default; the bot's own risk table makes it a change here.
      bot: { providers: { facts: { risk: "change" }, restart: { risk: "change" } } },
      roles: {
        ops: {
          grants: [
            { command: "fleet", args: { provider: ["uptime", "facts", "restart", "reboot"] } },
          ],
        },
        viewer: { grants: [{ command: "fleet", args: { provider: ["uptime"] } }] },
      },
      principals: [
        { id: "alice", roles: ["ops"], voice: { applicationId: APP_ID, userId: ALICE_USER } },
        { id: "guest", roles: ["viewer"], voice: { applicationId: APP_ID, userId: GUEST_USER } },
      ],
      voice: {
        applicationIds: [APP_ID],
        trustedRootsFile: roots,
        changeRoles: ["ops"],
        answerDeadlineMs: 5_000,
        intents: {
          GetUptime: {
            command: "fleet uptime where role={role}",
            slots: { role: { allow: ["web", "db"] } },
          },
          RestartService: {
            command: "fleet restart {service} where role={role}",
            slots: { service: { allow: ["nginx"] }, role: { allow: ["web"], default: "web" } },
          },
          Reboot: {
            command: "fleet reboot where role={role}",
            slots: { role: { allow: ["web"] } },
          },
          GetFacts: {
            command: "fleet facts where role={role}",
            slots: { role: { allow: ["db"] } },
          },
        },
      },
    });
    services = await startServices({
      config,
      stateDir: join(dir, "state"),
      env: {},
      logger: silentLogger,
      voice: {
        fetchCertChain: async (url) => {
          fetched.push(url);
          if (url !== CERT_URLS.good) throw new Error(`no certificate at ${url}`);
          return pki.chains.good;
        },
      },
    });
  });

  after(async () => {
    await services?.stop();
    await fleet?.stop();
  });

  const post = async (
    parts: Parameters<typeof envelope>[1],
    sign = true,
  ): Promise<{ status: number; answer: Answer }> => {
    const body = JSON.stringify(envelope(Date.now(), parts));
    const res = await fetch(`${services.httpUrl ?? ""}/voice/alexa`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        SignatureCertChainUrl: CERT_URLS.good,
        "Signature-256": sign ? pki.sign(body) : pki.sign(`${body} `),
      },
      body,
    });
    return { status: res.status, answer: (await res.json()) as Answer };
  };

  test("uptime for the web servers is spoken from the real agents' load", async () => {
    const { status, answer } = await post({
      intent: { name: "GetUptime", slots: slot("role", "web") },
    });
    assert.equal(status, 200, JSON.stringify(answer));
    const speech = answer.response.outputSpeech?.text ?? "";
    assert.match(speech, /^2 of 2 web servers answered; the highest load is [\d.]+ on www[12]\.$/);
    const card = answer.response.card;
    assert.equal(card?.title, "fleet uptime where role=web");
    assert.deepEqual(
      card?.content.split("\n").map((l) => l.split(":")[0]),
      ["www1", "www2"],
    );
    assert.match(card?.content ?? "", /www1: ok — \d\d:\d\d:\d\d up .*load average/);
    assert.deepEqual(fetched, [CERT_URLS.good]);
  });

  test("a change intent needs Dialog.ConfirmIntent, then runs on the agents", async () => {
    const intent = (confirmationStatus: string) => ({
      name: "RestartService",
      confirmationStatus,
      slots: slot("service", "nginx"),
    });
    const first = await post({ intent: intent("NONE") });
    assert.equal(first.answer.response.directives?.[0]?.type, "Dialog.ConfirmIntent");
    assert.equal(
      first.answer.response.outputSpeech?.text,
      "Should I run fleet restart nginx where role=web?",
    );
    assert.equal(first.answer.response.shouldEndSession, false);
    const second = await post({
      intent: intent("CONFIRMED"),
      attributes: first.answer.sessionAttributes ?? {},
    });
    assert.equal(second.answer.response.outputSpeech?.text, "2 of 2 web servers answered.");
    assert.match(second.answer.response.card?.content ?? "", /www1: ok — restarted nginx/);
  });

  test("voice uses the bot's risk table; other callers and bad signatures are refused", async () => {
    const facts = await post({ intent: { name: "GetFacts", slots: slot("role", "db") } });
    assert.equal(
      facts.answer.response.directives?.[0]?.type,
      "Dialog.ConfirmIntent",
      "bot.providers made facts a change",
    );
    const undeclared = await post({ intent: { name: "Reboot", slots: slot("role", "web") } });
    assert.match(
      undeclared.answer.response.outputSpeech?.text ?? "",
      /maps to a command I can't run/,
      "reboot is not a provider the bot knows",
    );
    const guest = await post({
      userId: GUEST_USER,
      intent: {
        name: "RestartService",
        confirmationStatus: "NONE",
        slots: slot("service", "nginx"),
      },
    });
    assert.equal(
      guest.answer.response.outputSpeech?.text,
      "This account may not make changes by voice.",
    );
    const stranger = await post({
      userId: "amzn1.ask.account.STRANGER",
      intent: { name: "GetUptime", slots: slot("role", "db") },
    });
    assert.match(stranger.answer.response.outputSpeech?.text ?? "", /^I don't know this account/);
    const forged = await post({ intent: { name: "GetUptime", slots: slot("role", "db") } }, false);
    assert.equal(forged.status, 400);
    assert.equal((forged.answer as unknown as { error: string }).error, "E_VOICE_SIGNATURE");
    const fleetRoute = await fetch(`${services.httpUrl ?? ""}/fleet`, { method: "POST" });
    assert.equal(fleetRoute.status, 401, "the rest of the HTTP API still needs a token");
  });
});
