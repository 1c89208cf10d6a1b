/**
 * Voice replay protection over real sockets and a real redis-server: a signed request answered
 * by one replica is refused when replayed to another (and to the same one) within the window,
 * counted with the webhook's rejection counter; only verified requests claim their id; without
 * Redis the webhook fails closed; a webhook without Redis remembers ids in memory.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import type { Redis } from "ioredis";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import type { HttpEnv } from "../../transports/http/context.ts";
import { redisReplayCache } from "../../transports/voice/replay.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { makeTestPki } from "../harness/test-ca.ts";
import {
  errorCode,
  send,
  startApp,
  voiceRoute,
  type TestApp,
  type VoiceRoute,
} from "../http/front-door-apps.ts";
import { CERT_URLS, envelope, startWebhook } from "./fixtures.ts";

const NOW = Date.now();
const uptime = { name: "GetUptime", slots: { role: { name: "role", value: "web" } } };

describe("voice request ids are claimed once across replicas", () => {
  const pki = makeTestPki(NOW);
  let server: TestRedis;
  const conns: Redis[] = [];
  const replicas: TestApp[] = [];
  const hooks: VoiceRoute[] = [];

  before(async () => {
    server = await startRedis();
    for (const name of ["voice-a", "voice-b"]) {
      const redis = connectRedis({ url: server.url, name, logger: silentLogger });
      await waitReady(redis, server.url);
      conns.push(redis);
      const hook = voiceRoute(pki, NOW, redisReplayCache(redis, "commodore"));
      hooks.push(hook);
      replicas.push(await startApp({ redis, config: {}, routes: [hook.mount] }));
    }
  });
  after(async () => {
    for (const r of replicas) await r.close();
    for (const c of conns) await closeRedis(c);
    await server.stop();
  });

  const at = (i: number) => {
    const r = replicas[i];
    const h = hooks[i];
    assert.ok(r && h);
    return { port: r.port, bot: h.bot, metrics: h.metrics };
  };
  const post = (i: number, body: string, signature = pki.sign(body)) =>
    send(
      at(i).port,
      "POST",
      "/voice/alexa",
      {
        "content-type": "application/json; charset=utf-8",
        SignatureCertChainUrl: CERT_URLS.good,
        "Signature-256": signature,
      },
      body,
    );

  test("answered by replica A, the same request is refused by replica B and by A", async () => {
    const requestId = "amzn1.echo-api.request.replayed";
    const body = JSON.stringify(envelope(NOW, { intent: uptime, requestId }));
    const first = await post(0, body);
    assert.equal(first.status, 200, first.text);
    assert.equal(at(0).bot.invocations.length, 1);

    for (const i of [1, 0]) {
      const before = at(i).bot.invocations.length;
      const replay = await post(i, body);
      assert.equal(replay.status, 400, replay.text);
      assert.deepEqual(replay.json, {
        error: "E_VOICE_REPLAY",
        message: "this request id was already received",
      });
      assert.equal(at(i).bot.invocations.length, before, "nothing ran");
      assert.match(
        at(i).metrics.render(),
        /commodore_voice_requests_total\{outcome="E_VOICE_REPLAY"\} 1/,
      );
    }

    const digest = createHash("sha256").update(requestId).digest("base64url");
    const ttl = await conns[0]?.pttl(`commodore:voice:seen:${digest}`);
    assert.ok(ttl !== undefined && ttl > 290_000 && ttl <= 300_000, `twice 150 s, found ${ttl}`);
    const fresh = await post(1, JSON.stringify(envelope(NOW, { intent: uptime })));
    assert.equal(fresh.status, 200, "a new request id is answered");
  });

  test("a request that fails verification does not claim its id", async () => {
    const body = JSON.stringify(envelope(NOW, { intent: uptime }));
    const forged = await post(0, body, pki.sign(`${body} `));
    assert.equal(forged.json["error"], "E_VOICE_SIGNATURE");
    assert.equal((await post(1, body)).status, 200);
  });

  test("without Redis the webhook fails closed (before and behind the HTTP app)", async () => {
    // A webhook mounted on its own, so only its replay check can refuse.
    const alone = voiceRoute(pki, NOW, redisReplayCache(conns[0] as Redis, "commodore"));
    const app = new Hono<HttpEnv>();
    alone.mount(app);
    const plain = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    await server.stop();
    await waitFor("connections noticing", async () => conns.every((c) => c.status !== "ready"));
    try {
      const body = JSON.stringify(envelope(NOW, { intent: uptime }));
      const port = (plain.address() as AddressInfo).port;
      const own = await send(
        port,
        "POST",
        "/voice/alexa",
        {
          "content-type": "application/json",
          SignatureCertChainUrl: CERT_URLS.good,
          "Signature-256": pki.sign(body),
        },
        body,
      );
      assert.equal(own.status, 503, own.text);
      assert.equal(own.json["error"], "E_VOICE_UNAVAILABLE");
      assert.equal(alone.bot.invocations.length, 0, "nothing ran");
      assert.match(
        alone.metrics.render(),
        /commodore_voice_requests_total\{outcome="E_VOICE_UNAVAILABLE"\} 1/,
      );
      const behindApp = await post(0, body);
      assert.equal(behindApp.status, 503);
      assert.equal(errorCode(behindApp), "E_RATE_LIMIT_UNAVAILABLE");
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
      await server.restart();
    }
  });
});

describe("a webhook without Redis", () => {
  test("remembers request ids in memory", async () => {
    const pki = makeTestPki(NOW);
    const hook = await startWebhook(pki, NOW);
    try {
      const body = JSON.stringify(envelope(NOW, { intent: uptime }));
      assert.equal((await hook.post(body)).status, 200);
      const replay = await hook.post(body);
      assert.equal(replay.status, 400);
      assert.equal(replay.json["error"], "E_VOICE_REPLAY");
      assert.equal(hook.bot.invocations.length, 1);
    } finally {
      await hook.close();
    }
  });
});
