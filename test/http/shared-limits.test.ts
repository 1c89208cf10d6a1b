/**
 * Rate limits in Redis, shared by replicas: two HTTP apps on one real redis-server share one
 * budget per principal (N requests in total, not 2N), the status pages too; `/ui/login`,
 * `/voice/alexa` and `/provision/callback` are limited per client address with the real
 * routes behind them; with Redis gone the API falls back to per-replica memory while those
 * three fail closed. The counters also work for the bot's ACL user and on a Redis Cluster.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { hashToken } from "../../transports/http/tokens.ts";
import { createProvisionCallback } from "../../executors/provision/callback.ts";
import { createProvisionCallbackRoutes } from "../../transports/http/routes/provision-callback.ts";
import { createStaticHostDirectory } from "../../executors/provision/hosts.ts";
import { parseProvisionOptions } from "../../executors/provision/options.ts";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import type { RedisClient } from "../../lib/redis/client.ts";
import { connectUrl } from "../../lib/redis/url.ts";
import type { HttpApp } from "../../transports/http/context.ts";
import { rateWindow, SharedRateLimiter } from "../../transports/http/rate-limit.ts";
import { redisReplayCache } from "../../transports/voice/replay.ts";
import { BOT_USER } from "../../app/redis-acl.ts";
import { waitFor } from "../harness/ports.ts";
import { aclDenials, startAclRedis, type AclRedis } from "../harness/redis-acl.ts";
import { startCluster, type TestCluster } from "../harness/redis-cluster.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { makeTestPki } from "../harness/test-ca.ts";
import { nodeRemoteAddress } from "../provision/http-client.ts";
import { makeDirs } from "../provision/fixture.ts";
import { errorCode, send, startApp, voiceRoute, type TestApp } from "./front-door-apps.ts";

const CONFIG = {
  roles: { reader: { grants: [{ command: "jobs" }, { command: "nodes" }, { command: "job" }] } },
  principals: [
    { id: "ci", roles: ["reader"], http: { tokenSha256: hashToken("ci-token") } },
    { id: "ops", roles: ["reader"], http: { tokenSha256: hashToken("ops-token") } },
  ],
};
const CALLBACK_KEY = "callback-key";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** The real provisioning callback with a queue that only records what it was given. */
function callbackRoute(): { mount: (app: HttpApp) => void; queued: string[] } {
  const dirs = makeDirs();
  const queued: string[] = [];
  const callback = createProvisionCallback({
    options: parseProvisionOptions({
      playbookDir: dirs.playbooks,
      logDir: dirs.logs,
      remoteUser: "root",
      privateKey: "/nonexistent",
      callback: {
        playbooks: {
          marker: {
            hostConfigKeySha256: createHash("sha256").update(CALLBACK_KEY).digest("hex"),
          },
        },
      },
    }),
    queue: {
      enqueue: async (spec) => {
        queued.push(spec.host);
        return { jobId: `prov-${queued.length}` };
      },
    },
    directory: createStaticHostDirectory(
      ["127.0.0.2", "127.0.0.3"].map((address, i) => ({
        hostname: `web0${i + 2}`,
        addresses: [address],
        publicKey: makeKey().publicLine,
        facts: {},
      })),
    ),
    logger: silentLogger,
  });
  const routes = createProvisionCallbackRoutes({ callback, remoteAddress: nodeRemoteAddress });
  return { mount: (app) => app.route("/provision/callback", routes), queued };
}

describe("rate limits shared by two replicas on one Redis", () => {
  const NOW = Date.now();
  const pki = makeTestPki(NOW);
  let server: TestRedis;
  const conns: Redis[] = [];
  const replicas: TestApp[] = [];
  const callback = callbackRoute();

  before(async () => {
    server = await startRedis();
    for (const name of ["replica-a", "replica-b"]) {
      const redis = connectRedis({ url: server.url, name, logger: silentLogger });
      await waitReady(redis, server.url);
      conns.push(redis);
      replicas.push(
        await startApp({
          redis,
          config: CONFIG,
          status: true,
          rateLimit: {
            perMinute: 1,
            burst: 3,
            login: { perMinute: 1, burst: 2 },
            webhooks: { perMinute: 1, burst: 2 },
          },
          routes: [voiceRoute(pki, NOW).mount, callback.mount],
        }),
      );
    }
  });
  after(async () => {
    for (const r of replicas) await r.close();
    for (const c of conns) await closeRedis(c);
    await server.stop();
  });

  const replica = (i: number) => {
    const r = replicas[i % replicas.length];
    assert.ok(r);
    return r;
  };

  test("the per-principal API budget is one budget: 3 requests in total, not 6", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++)
      codes.push(
        (await send(replica(i).port, "GET", "/jobs", { authorization: "Bearer ci-token" })).status,
      );
    assert.deepEqual(codes, [200, 200, 200, 429, 429, 429]);
    const limited = await send(replica(1).port, "GET", "/jobs", {
      authorization: "Bearer ci-token",
    });
    assert.equal(errorCode(limited), "E_RATE_LIMITED");
    assert.match(String(limited.headers["retry-after"]), /^\d+$/);
    assert.ok(Number(limited.headers["retry-after"]) <= 180);
    const ops = await send(replica(0).port, "GET", "/jobs", { authorization: "Bearer ops-token" });
    assert.equal(ops.status, 200, "another principal has its own budget");
    const key = "commodore:ratelimit:api:3p180s:ci";
    assert.equal(await conns[0]?.get(key), "7", "every request counted, under the bot's prefix");
    const ttl = (await conns[0]?.pttl(key)) ?? 0;
    assert.ok(ttl > 170_000 && ttl <= 180_000, `window of 180 s, found ${ttl} ms`);
  });

  test("status pages share a budget per principal too", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push(
        (await send(replica(i).port, "GET", "/ui/jobs", { authorization: "Bearer ops-token" }))
          .status,
      );
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
  });

  test("POST /ui/login is limited per client address across replicas", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push(
        (await send(replica(i).port, "POST", "/ui/login", FORM, "token=guess&next=/ui")).status,
      );
    assert.deepEqual(codes, [401, 401, 429]);
    const other = await send(replica(0).port, "POST", "/ui/login", FORM, "token=x", "127.0.0.5");
    assert.equal(other.status, 401, "another address has its own budget");
  });

  test("/voice/alexa is limited per client address before verification", async () => {
    const post = (i: number) =>
      send(
        replica(i).port,
        "POST",
        "/voice/alexa",
        { "content-type": "application/json" },
        "{}",
        "127.0.0.6",
      );
    const first = await post(0);
    assert.equal(first.status, 400);
    assert.equal(first.json["error"], "E_VOICE_HEADERS");
    assert.equal((await post(1)).status, 400);
    const third = await post(0);
    assert.equal(third.status, 429);
    assert.equal(errorCode(third), "E_RATE_LIMITED");
  });

  test("/provision/callback is limited per client address; form bodies still work", async () => {
    const post = (i: number, from: string, key = CALLBACK_KEY) =>
      send(
        replica(i).port,
        "POST",
        "/provision/callback/marker",
        FORM,
        `host_config_key=${key}`,
        from,
      );
    const queued = await post(0, "127.0.0.2");
    assert.equal(queued.status, 201, queued.text);
    assert.deepEqual(callback.queued, ["web02"]);
    assert.equal((await post(1, "127.0.0.2", "wrong")).status, 403);
    assert.equal((await post(0, "127.0.0.2")).status, 429);
    assert.deepEqual(callback.queued, ["web02"], "nothing queued over the limit");
    const json = await send(
      replica(1).port,
      "POST",
      "/provision/callback/marker",
      { "content-type": "application/json" },
      JSON.stringify({ host_config_key: CALLBACK_KEY }),
      "127.0.0.3",
    );
    assert.equal(json.status, 201, json.text);
  });

  test("Redis gone: the API limits from memory, login, voice and callbacks fail closed", async () => {
    await server.stop();
    await waitFor("connections noticing", async () => conns.every((c) => c.status !== "ready"));
    try {
      // Malformed JSON is answered without Redis: the budget decides 400 or 429.
      const codes: number[] = [];
      for (let i = 0; i < 5; i++)
        codes.push(
          (
            await send(
              replica(0).port,
              "POST",
              "/commands",
              { authorization: "Bearer ops-token", "content-type": "application/json" },
              "{",
            )
          ).status,
        );
      assert.deepEqual(codes, [400, 400, 400, 429, 429], "replica-local window of 3");
      const b = await send(
        replica(1).port,
        "POST",
        "/commands",
        { authorization: "Bearer ops-token", "content-type": "application/json" },
        "{",
      );
      assert.equal(b.status, 400, "the other replica has its own memory budget");
      for (const [path, type, body] of [
        ["/ui/login", FORM["content-type"], "token=x"],
        ["/voice/alexa", "application/json", "{}"],
        ["/provision/callback/marker", FORM["content-type"], `host_config_key=${CALLBACK_KEY}`],
      ] as const) {
        const r = await send(
          replica(0).port,
          "POST",
          path,
          { "content-type": type },
          body,
          "127.0.0.4",
        );
        assert.equal(r.status, 503, `${path}: ${r.text}`);
        assert.equal(errorCode(r), "E_RATE_LIMIT_UNAVAILABLE");
        assert.equal(r.headers["retry-after"], "5");
      }
      assert.deepEqual(callback.queued, ["web02", "web03"]);
    } finally {
      await server.restart();
    }
  });
});

describe("the shared counters under the bot's Redis ACL and on a Redis Cluster", () => {
  let acl: AclRedis;
  let cluster: TestCluster;
  const clients: RedisClient[] = [];

  before(async () => {
    acl = await startAclRedis();
    cluster = await startCluster();
  });
  after(async () => {
    for (const c of clients) await closeRedis(c);
    await cluster.stop();
    await acl.redis.stop();
  });

  const limiter = (redis: RedisClient) =>
    new SharedRateLimiter({
      redis,
      prefix: "commodore",
      scope: "api",
      settings: { perMinute: 1, burst: 2 },
      whenRedisDown: "refuse",
    });

  /** Two clients of one topology: two limiters share a budget, two replay caches one memory. */
  const sharedByTwo = async (connect: () => Promise<RedisClient>) => {
    const [a, b] = [await connect(), await connect()];
    const decisions = [];
    for (const r of [a, b, a, b]) decisions.push((await limiter(r).take("alice")).kind);
    assert.deepEqual(decisions, ["allowed", "allowed", "limited", "limited"]);
    assert.equal(await redisReplayCache(a, "commodore").claim("amzn1.request.x", 300_000), true);
    assert.equal(await redisReplayCache(b, "commodore").claim("amzn1.request.x", 300_000), false);
  };

  test("the commodore-bot ACL user may use the keys and scripts; ACL LOG stays empty", async () => {
    await sharedByTwo(async () => {
      const r = connectRedis({ url: acl.url("bot"), name: "test-acl-bot", logger: silentLogger });
      clients.push(r);
      await waitReady(r, "acl redis");
      return r;
    });
    assert.equal(new URL(acl.url("bot")).username, BOT_USER);
    assert.deepEqual(await aclDenials(acl.redis.port, acl.logins), []);
  });

  test("ioredis Cluster: one key per counter, shared by two cluster clients", async () => {
    const url = `cluster://${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
    await sharedByTwo(async () => {
      const r = connectUrl({ url, name: "test-cluster-limits", logger: silentLogger });
      clients.push(r);
      await waitReady(r, url);
      return r;
    });
  });

  test("burst and perMinute become a fixed window with the same average", () => {
    assert.deepEqual(rateWindow({ perMinute: 120, burst: 30 }), { points: 30, seconds: 15 });
    assert.deepEqual(rateWindow({ perMinute: 1, burst: 2 }), { points: 2, seconds: 120 });
    assert.deepEqual(rateWindow({ perMinute: 7, burst: 3 }), { points: 3, seconds: 26 });
    assert.deepEqual(rateWindow({ perMinute: 6_000, burst: 10 }), { points: 100, seconds: 1 });
    assert.throws(
      () =>
        new SharedRateLimiter({
          redis: new Redis({ lazyConnect: true }),
          prefix: "commodore:",
          scope: "api",
          settings: { perMinute: 1, burst: 1 },
          whenRedisDown: "local",
        }),
      /rate limit prefix: expected a key prefix such as commodore, found "commodore:"/,
    );
  });
});
