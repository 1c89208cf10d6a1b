/**
 * One signing identity per transport: `controller.signers` gives voice its own key and a
 * read-only principal, so a real agent refuses a voice-initiated `service … restart` that the
 * bot's grants allow, while the same command over HTTP (or IRC) is signed as the admin
 * principal and runs. Real Redis, real agents with a real `service` provider (a recording
 * script for service(8)), the signed voice webhook and HTTP served by `startServices`.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Redis } from "ioredis";
import type { BotEvent } from "../../bot/contract.ts";
import { hashToken } from "../../transports/http/tokens.ts";
import { startServices, type Services } from "../../app/services.ts";
import { configSchema } from "../../config/schema.ts";
import type { FleetExecutor } from "../../executors/fleet/controller/controller.ts";
import { loadRequestIdentities } from "../../executors/fleet/controller/security.ts";
import type { FleetResult } from "../../executors/fleet/types.ts";
import { OptionsError } from "../../lib/errors.ts";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { argvRecorder, trustSigner } from "../harness/actions.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { testBot, who, type TestBot } from "../harness/bot.ts";
import type { TestKey } from "../harness/ssh-keys.ts";
import { makeTestPki, type TestPki } from "../harness/test-ca.ts";
import { tempDir } from "../harness/tmp.ts";
import { ALICE_USER, APP_ID, CERT_URLS, envelope } from "../voice/fixtures.ts";
import { configLoader, problems } from "../config/helpers.ts";
import { names, spy } from "./helpers.ts";

const ADMIN_PRINCIPAL = "ops";
const VOICE_PRINCIPAL = "commodore-voice";
const ALICE_TOKEN = "alice-token";
const RESTART = "fleet service nginx restart where role=web";

/** Agents' own authorization: the admin key may manage units, the voice key only ask status. */
const AUTHORIZATION = {
  rules: [
    { principals: [ADMIN_PRINCIPAL], providers: ["service"] },
    { principals: [VOICE_PRINCIPAL], providers: ["service"], args: ["*", "status"] },
  ],
};

/** The bot side: alice may run every fleet command, by voice, HTTP or IRC alike. */
const BOT = {
  roles: {
    ops: { grants: [{ command: "fleet", args: { provider: ["service", "ping", "uptime"] } }] },
  },
  principals: [
    {
      id: "alice",
      roles: ["ops"],
      voice: { applicationId: APP_ID, userId: ALICE_USER },
      http: { tokenSha256: hashToken(ALICE_TOKEN) },
    },
  ],
};

interface VoiceAnswer {
  sessionAttributes?: Record<string, unknown>;
  response: {
    outputSpeech?: { text: string };
    card?: { content: string };
    directives?: Array<{ type: string }>;
  };
}

/** `sender` of every request published on the fleet's request channel so far. */
function senders(messages: readonly string[]): string[] {
  return messages.map(
    (raw) =>
      (JSON.parse(String((JSON.parse(raw) as { payload: string }).payload)) as { sender: string })
        .sender,
  );
}

describe("per-transport signers: voice signs as a read-only principal", () => {
  let fleet: TestFleet;
  let voiceKey: TestKey;
  let pki: TestPki;
  let services: Services;
  let wire: Awaited<ReturnType<typeof spy>>;
  const service = argvRecorder("service", "nginx restarted");

  before(async () => {
    pki = makeTestPki();
    const dir = tempDir("commodore-signers-");
    const roots = join(dir, "roots.pem");
    writeFileSync(roots, pki.trustedRootsPem);
    fleet = await startFleet([], ADMIN_PRINCIPAL);
    voiceKey = trustSigner(fleet.allowedSignersPath, VOICE_PRINCIPAL);
    const options = {
      authorization: AUTHORIZATION,
      actions: {
        service: { units: ["nginx"], manager: "sysv" as const, servicePath: service.path },
      },
    };
    await fleet.addAgent({ hostname: "www1", facts: { role: "web" }, options });
    wire = await spy(fleet.redis.url);
    await wire.listen(names.requests);
    const config = configSchema.parse({
      ...BOT,
      redis: { url: fleet.redis.url },
      controller: {
        keyPath: fleet.controllerKey.privatePath,
        principal: ADMIN_PRINCIPAL,
        signers: { voice: { keyPath: voiceKey.privatePath, principal: VOICE_PRINCIPAL } },
        enrollment: "tofu", // the test's own agents, accepted on first sight
        ackTimeoutMs: 1_000,
      },
      http: { listen: "127.0.0.1:0" },
      voice: {
        applicationIds: [APP_ID],
        trustedRootsFile: roots,
        changeRoles: ["ops"],
        answerDeadlineMs: 5_000,
        intents: {
          ServiceAction: {
            command: "fleet service {unit} {action} where role={role}",
            slots: {
              unit: { allow: ["nginx"] },
              action: { allow: ["restart", "status"] },
              role: { allow: ["web"], default: "web" },
            },
          },
        },
      },
    });
    services = await startServices({
      config,
      stateDir: join(dir, "state"),
      env: {},
      logger: silentLogger,
      voice: { fetchCertChain: async () => pki.chains.good },
    });
  });

  after(async () => {
    await services?.stop();
    await wire?.close();
    await fleet?.stop();
  });

  const speak = async (
    action: string,
    confirmationStatus: string,
    attributes: Record<string, unknown> = {},
  ): Promise<VoiceAnswer> => {
    const slots = {
      unit: { name: "unit", value: "nginx" },
      action: { name: "action", value: action },
    };
    const body = JSON.stringify(
      envelope(Date.now(), {
        intent: { name: "ServiceAction", confirmationStatus, slots },
        attributes,
      }),
    );
    const res = await fetch(`${services.httpUrl ?? ""}/voice/alexa`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        SignatureCertChainUrl: CERT_URLS.good,
        "Signature-256": pki.sign(body),
      },
      body,
    });
    assert.equal(res.status, 200);
    return (await res.json()) as VoiceAnswer;
  };

  test("a confirmed voice restart is refused by the agent (77): the voice principal may not", async () => {
    const asked = await speak("restart", "NONE");
    assert.equal(asked.response.directives?.[0]?.type, "Dialog.ConfirmIntent", "bot allows it");
    const before = wire.messages(names.requests).length;
    const done = await speak("restart", "CONFIRMED", asked.sessionAttributes ?? {});
    assert.equal(done.response.outputSpeech?.text, "1 of 1 web server answered; 1 failed: www1.");
    assert.match(
      done.response.card?.content ?? "",
      /^www1: failed — not authorized: principal "commodore-voice" on behalf of "alice" may not call "service" "nginx" "restart"/,
    );
    assert.deepEqual(senders(wire.messages(names.requests).slice(before)), [VOICE_PRINCIPAL]);
    assert.deepEqual(service.calls(), [], "service(8) never ran");
  });

  test("the voice key is trusted: what its principal is granted (status) runs", async () => {
    const done = await speak("status", "NONE");
    assert.equal(done.response.outputSpeech?.text, "1 of 1 web server answered.");
    assert.deepEqual(service.calls(), [["nginx", "status"]]);
  });

  test("the same restart over HTTP is signed as the admin principal and runs", async () => {
    const before = wire.messages(names.requests).length;
    const res = await fetch(`${services.httpUrl ?? ""}/fleet`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ALICE_TOKEN}` },
      body: JSON.stringify({ args: ["service", "nginx", "restart"], where: { role: "web" } }),
    });
    const json = (await res.json()) as { summary: { ok: number }; resps: unknown };
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.equal(json.summary.ok, 1, JSON.stringify(json));
    assert.deepEqual(senders(wire.messages(names.requests).slice(before)), [ADMIN_PRINCIPAL]);
    assert.deepEqual(service.calls().at(-1), ["nginx", "restart"]);
  });

  test("start-up stops with the option named when a signer's key cannot be loaded", async () => {
    const config = configSchema.parse({
      redis: { url: fleet.redis.url },
      controller: { signers: { irc: { keyPath: "/nonexistent/irc_ed25519", principal: "irc" } } },
      http: { enabled: false },
    });
    await assert.rejects(
      startServices({ config, stateDir: tempDir(), env: {}, logger: silentLogger }),
      (err: unknown) =>
        err instanceof OptionsError &&
        err.message ===
          "controller.signers.irc.keyPath: expected a readable private key file, found ENOENT for /nonexistent/irc_ed25519",
    );
    const garbage = join(tempDir(), "not-a-key");
    writeFileSync(garbage, "hello\n");
    assert.throws(
      () => loadRequestIdentities({ voice: { keyPath: garbage, principal: "v" } }, "signers"),
      /^OptionsError: signers\.voice\.keyPath: expected an unencrypted OpenSSH private key, found an unusable key/,
    );
  });
});

describe("the bot passes the transport as the signer name; the controller picks the key", () => {
  let fleet: TestFleet;
  let redis: Redis;
  let bot: TestBot;
  let controller: FleetExecutor;
  const service = argvRecorder("service");

  before(async () => {
    fleet = await startFleet([], ADMIN_PRINCIPAL);
    const voiceKey = trustSigner(fleet.allowedSignersPath, VOICE_PRINCIPAL);
    const options = {
      authorization: AUTHORIZATION,
      actions: {
        service: { units: ["nginx"], manager: "sysv" as const, servicePath: service.path },
      },
    };
    for (const hostname of ["www1", "www2"])
      await fleet.addAgent({ hostname, facts: { role: "web" }, options });
    controller = fleet.controller({
      signers: loadRequestIdentities(
        { voice: { keyPath: voiceKey.privatePath, principal: VOICE_PRINCIPAL } },
        "signers",
      ),
    });
    redis = connectRedis({ url: fleet.redis.url, name: "test-signers", logger: silentLogger });
    await waitReady(redis, fleet.redis.url);
    bot = testBot({ ...BOT, bot: { dangerousHostThreshold: 10 } }, redis, controller);
  });
  after(async () => {
    await bot?.close();
    await closeRedis(redis);
    await fleet?.stop();
  });

  const fleetResult = (events: readonly BotEvent[]): FleetResult => {
    const last = events.at(-1);
    assert.ok(
      last?.type === "result" && last.result.kind === "fleet",
      JSON.stringify(events.at(-1)),
    );
    return last.result.fleet;
  };

  test("voice (also batched) is refused on every host; irc, http and cli run", async () => {
    const alice = who("alice", ["ops"]);
    for (const text of [RESTART, "fleet service nginx restart --batch 1 where role=web"]) {
      const voice = fleetResult(await bot.run(alice, text, "voice"));
      assert.deepEqual(
        voice.hosts.map((h) => [h.hostname, h.exit, h.output?.["refused"]]),
        [
          ["www1", 77, true],
          ["www2", 77, true],
        ],
        text,
      );
    }
    assert.deepEqual(service.calls(), []);
    for (const transport of ["irc", "http", "cli"] as const) {
      const ok = fleetResult(await bot.run(alice, RESTART, transport));
      assert.equal(ok.summary.ok, 2, `${transport}: ${JSON.stringify(ok.hosts)}`);
    }
    assert.equal(service.calls().length, 6);
  });
});

describe("controller.signers is checked at the boundary", () => {
  const load = configLoader("commodore-signers-config-");
  const signers = (body: string) => `controller:\n  signers:\n${body}`;

  test("transport names, principals and keys are validated with path, expectation and value", () => {
    const ok = load("ok.yaml", signers("    voice: { keyPath: /k/voice, principal: v }\n"));
    assert.deepEqual(ok.controller.signers, { voice: { keyPath: "/k/voice", principal: "v" } });
    assert.deepEqual(load("none.yaml", "controller: {}\n").controller.signers, {});
    const cases: Array<[string, string]> = [
      [
        "    fax: { keyPath: /k, principal: p }\n",
        'controller.signers.fax: expected one of irc, http, voice, cli, found unknown key "fax"',
      ],
      [
        '    voice: { keyPath: /k, principal: "commodore voice" }\n',
        'controller.signers.voice.principal: expected a principal without spaces, commas or quotes (the name in allowed_signers), found "commodore voice" (a string)',
      ],
      [
        "    voice: { principal: v }\n",
        "controller.signers.voice.keyPath: expected a string, found nothing",
      ],
      [
        "    voice: { keyPath: /k, principal: v, key: x }\n",
        'controller.signers.voice.key: expected one of keyPath, principal (did you mean keyPath?), found unknown key "key"',
      ],
    ];
    for (const [body, problem] of cases)
      assert.deepEqual(
        problems(() => load("bad.yaml", signers(body))),
        [problem],
      );
  });
});
