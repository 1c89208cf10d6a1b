import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { silentLogger } from "../../lib/log.ts";
import { createProvisionCallback } from "../../executors/provision/callback.ts";
import { createProvisionCallbackRoutes } from "../../transports/http/routes/provision-callback.ts";
import { createStaticHostDirectory, type KnownHost } from "../../executors/provision/hosts.ts";
import { parseProvisionOptions } from "../../executors/provision/options.ts";
import { ProvisionQueue } from "../../executors/provision/queue/queue.ts";
import { createSpecValidator } from "../../executors/provision/validate.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { testSealer } from "../harness/seal.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { makeDirs } from "./fixture.ts";
import { nodeRemoteAddress, post, serveCallback } from "./http-client.ts";

const KEY = "s3cret-web-key";
const DB_KEY = "db-key-from-env";
const hostKey = makeKey().publicLine;
const host = (hostname: string, ...addresses: string[]): KnownHost => ({
  hostname,
  addresses,
  publicKey: hostKey,
  facts: {},
});
const hosts = [
  host("web02", "127.0.0.2"),
  host("web03", "127.0.0.3", "fd00::3"),
  host("web04", "127.0.0.4"),
  host("twin-a", "127.0.0.9"),
  host("twin-b", "127.0.0.9"),
];

let redis: TestRedis;
let client: Redis;
let queue: ProvisionQueue;
let url: string;
let close: () => Promise<void>;
before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  const dirs = makeDirs();
  const options = parseProvisionOptions({
    playbookDir: dirs.playbooks,
    logDir: dirs.logs,
    remoteUser: "root",
    privateKey: "/nonexistent",
    extraVarsAllowList: ["flavour"],
    callback: {
      playbooks: {
        marker: { hostConfigKeySha256: createHash("sha256").update(KEY).digest("hex") },
        events: { hostConfigKeyEnv: "DB_CALLBACK_KEY" },
      },
      trustedProxies: ["127.0.0.60/32", "127.0.0.61"],
    },
  });
  // Never started: jobs stay pending, which is what "already pending" needs.
  queue = new ProvisionQueue({
    redis: client,
    prefix: "cb:",
    concurrency: 4,
    retries: options.retries,
    leaseMs: 1_000,
    run: async () => ({ status: "error", message: "not used", durationMs: 0 }),
    sealer: testSealer(),
    logger: silentLogger,
    validate: createSpecValidator(options),
  });
  const routes = createProvisionCallbackRoutes({
    callback: createProvisionCallback({
      options,
      queue,
      directory: createStaticHostDirectory(hosts),
      logger: silentLogger,
      env: { DB_CALLBACK_KEY: DB_KEY },
    }),
    remoteAddress: nodeRemoteAddress,
  });
  ({ url, close } = await serveCallback(routes));
});
after(async () => {
  await close();
  client.disconnect();
  await redis.stop(true);
});

const form = (key: string) => `host_config_key=${encodeURIComponent(key)}`;

describe("provisioning callback over a real HTTP socket", () => {
  test("201 with the job id for the one host at the caller's address", async () => {
    const reply = await post(`${url}/marker`, "127.0.0.2", form(KEY));
    assert.equal(reply.status, 201);
    const jobId = String(reply.body["id"]);
    assert.match(jobId, /^prov-\d+$/);
    const job = await queue.status(jobId);
    assert.deepEqual(
      [job.host, job.address, job.playbook, job.trigger, job.requestedBy],
      ["web02", "127.0.0.2", "marker", "callback", "callback:127.0.0.2"],
    );
  });

  test("400 while a run for the host is pending", async () => {
    const reply = await post(`${url}/marker`, "127.0.0.2", form(KEY));
    assert.deepEqual(reply, { status: 400, body: { msg: "Host callback job already pending." } });
  });

  test("403 for a bad key, an unknown playbook, or a key for another playbook", async () => {
    for (const [path, key] of [
      ["/marker", "wrong"],
      ["/nosuch", KEY],
      ["/events", KEY],
      ["/marker", ""],
    ] as const) {
      const reply = await post(`${url}${path}`, "127.0.0.4", form(key));
      assert.equal(reply.status, 403, `${path} ${key}`);
      assert.deepEqual(reply.body, { detail: "Invalid host_config_key." });
    }
    assert.equal(await queue.activeJobFor("web04"), undefined);
  });

  test("a key from an env variable, with the playbook and extra vars in a JSON body", async () => {
    const reply = await post(
      url,
      "127.0.0.4",
      JSON.stringify({ host_config_key: DB_KEY, playbook: "events", extra_vars: { flavour: "x" } }),
      { "content-type": "application/json" },
    );
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    const job = await queue.status(String(reply.body["id"]));
    assert.deepEqual(
      [job.host, job.playbook, job.extraVars],
      ["web04", "events", { flavour: "x" }],
    );
  });

  test("400 for extra vars outside the allow-list", async () => {
    const reply = await post(
      `${url}/marker`,
      "127.0.0.3",
      JSON.stringify({ host_config_key: KEY, extra_vars: { evil: "1" } }),
      { "content-type": "application/json" },
    );
    assert.equal(reply.status, 400);
    assert.match(String(reply.body["msg"]), /extra var "evil" is not in the allow-list/);
  });

  test("400 when no host or several hosts have the caller's address", async () => {
    assert.deepEqual(await post(`${url}/marker`, "127.0.0.50", form(KEY)), {
      status: 400,
      body: { msg: "No matching host could be found!" },
    });
    assert.deepEqual(await post(`${url}/marker`, "127.0.0.9", form(KEY)), {
      status: 400,
      body: { msg: "Multiple hosts matched the request!" },
    });
  });

  test("X-Forwarded-For is ignored from untrusted peers and honoured from trusted proxies", async () => {
    const xff = (value: string) => ({
      "content-type": "application/x-www-form-urlencoded",
      "x-forwarded-for": value,
    });
    const spoofed = await post(`${url}/marker`, "127.0.0.50", form(KEY), xff("127.0.0.3"));
    assert.equal(spoofed.status, 400);
    assert.equal(spoofed.body["msg"], "No matching host could be found!");
    // The right-most untrusted hop is the client: a forged left-most entry does not help.
    const forged = await post(
      `${url}/marker`,
      "127.0.0.60",
      form(KEY),
      xff("127.0.0.3, 127.0.0.50"),
    );
    assert.equal(forged.body["msg"], "No matching host could be found!");
    const proxied = await post(
      `${url}/marker`,
      "127.0.0.60",
      form(KEY),
      xff("127.0.0.3, 127.0.0.61"),
    );
    assert.equal(proxied.status, 201, JSON.stringify(proxied.body));
    assert.equal((await queue.status(String(proxied.body["id"]))).host, "web03");
  });

  test("400 for a body without host_config_key", async () => {
    const reply = await post(`${url}/marker`, "127.0.0.3", "nothing=here");
    assert.deepEqual(reply, { status: 400, body: { msg: "host_config_key is required." } });
  });
});
