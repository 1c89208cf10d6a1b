import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { sealRegistration } from "../../executors/fleet/agent/registration.ts";
import { storeRegistration } from "../../executors/fleet/controller/registrar.ts";
import type { RegistrationMessage } from "../../executors/fleet/protocol/messages.ts";
import { Enrollment } from "../../executors/fleet/controller/enrollment.ts";
import { LastKnown } from "../../executors/fleet/controller/last-known.ts";
import { RegistryReader } from "../../executors/fleet/controller/registry-reader.ts";
import { sshControllerSecurity } from "../../executors/fleet/controller/security.ts";
import { sshsigSigner, type PayloadVerifier } from "../../executors/fleet/protocol/auth.ts";
import { REGISTRATION_NAMESPACE, fleetNames } from "../../executors/fleet/protocol/channels.ts";
import { loadPrivateKey, type PrivateKeyInfo } from "../../executors/fleet/protocol/keys.ts";
import { rejectionRecorder } from "../../executors/fleet/protocol/rejections.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { rejected } from "./helpers.ts";

const TTL_MS = 30_000;
const SKEW_MS = 5_000;
const HEARTBEAT_MS = 1_000;

const hostKeys: Record<string, PrivateKeyInfo> = {
  alpha: loadPrivateKey(makeKey().privatePath),
  beta: loadPrivateKey(makeKey().privatePath),
};
const controllerKey = loadPrivateKey(makeKey().privatePath);

let server: TestRedis;
let redis: Redis;

before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

/** A reader over a fresh prefix whose registration checks are counted. */
function reader(prefix: string) {
  const names = fleetNames(prefix);
  const metrics = new MetricsRegistry();
  const rejections = rejectionRecorder(metrics, silentLogger, "controller");
  const security = sshControllerSecurity(controllerKey);
  let checks = 0;
  const inner = security.registrationVerifier;
  const counted: PayloadVerifier = {
    verify: (...args) => (checks++, inner.verify(...args)),
    verifyAsync: (...args) => (
      checks++,
      inner.verifyAsync?.(...args) ?? Promise.resolve(inner.verify(...args))
    ),
  };
  const enrollment = new Enrollment({
    redis,
    names,
    signer: security.enrollmentSigner,
    verifier: security.enrollmentVerifier,
    principal: "commodore",
    mode: "tofu",
    knownHosts: undefined,
    clockSkewMs: SKEW_MS,
    rejections,
    logger: silentLogger,
  });
  const registry = new RegistryReader(
    redis,
    names,
    enrollment,
    counted,
    rejections,
    { clockSkewMs: SKEW_MS, maxRegistrationTtlMs: TTL_MS },
    silentLogger,
    new LastKnown(redis, names, security.registrationVerifier, rejections),
  );
  const beat = (hostname: string, now: number, role = "web") => {
    const key = hostKeys[hostname];
    if (!key) throw new Error(`no key for ${hostname}`);
    // What the registrar stores for an announcement (controller/registrar.ts).
    const raw = sealRegistration(
      sshsigSigner(key, REGISTRATION_NAMESPACE),
      { hostname, facts: { role }, publicKey: key.public.line, version: "test", ttlMs: TTL_MS },
      now,
    );
    const reg = JSON.parse((JSON.parse(raw) as { payload: string }).payload) as RegistrationMessage;
    return storeRegistration(redis, names, raw, reg);
  };
  return { names, metrics, registry, beat, checks: () => checks };
}

describe("registry reader", () => {
  test("an unchanged registration is verified once, however often the registry is read", async () => {
    const { registry, beat, checks } = reader("rr-once");
    const now = Date.now();
    await beat("alpha", now);
    await beat("beta", now);
    const first = await registry.read(now);
    const second = await registry.read(now + 1);
    const third = await registry.read(now + 2);
    assert.equal(checks(), 2);
    assert.deepEqual(
      first.map((n) => [n.hostname, n.state]),
      [
        ["alpha", "accepted"],
        ["beta", "accepted"],
      ],
    );
    // The same objects while nothing changed: a read at scale allocates no new nodes.
    assert.ok(second.every((n, i) => n === third[i]));
    assert.equal(registry.acceptedKey("alpha"), hostKeys["alpha"]?.public.line);
  });

  test("a heartbeat changes the text, so that registration alone is verified again, once", async () => {
    const { registry, beat, checks } = reader("rr-beat");
    const now = Date.now();
    await beat("alpha", now);
    await beat("beta", now);
    await registry.read(now);
    await beat("alpha", now + HEARTBEAT_MS, "db");
    const nodes = await registry.read(now + HEARTBEAT_MS);
    await registry.read(now + HEARTBEAT_MS + 1);
    assert.equal(checks(), 3);
    const alpha = nodes.find((n) => n.hostname === "alpha");
    assert.deepEqual(alpha?.facts, { role: "db" });
    assert.equal(alpha?.lastSeen, new Date(now + HEARTBEAT_MS).toISOString());
  });

  test("a registration altered in Redis is verified anew and refused; the host stays listed from what it signed", async () => {
    const { names, metrics, registry, beat } = reader("rr-tamper");
    const now = Date.now();
    await beat("alpha", now);
    await beat("beta", now);
    assert.equal((await registry.read(now)).length, 2);
    const raw = (await redis.get(names.node("beta"))) ?? "";
    assert.ok(raw.includes("web"));
    await redis.set(names.node("beta"), raw.replace("web", "ops"), "PX", TTL_MS);
    await redis.zadd(names.nodeIndex, now + 1, "beta");
    const nodes = await registry.read(now + 1);
    assert.deepEqual(
      nodes.map((n) => [n.hostname, n.absent === true, n.facts["role"]]),
      [
        ["alpha", false, "web"],
        ["beta", true, "web"],
      ],
    );
    assert.equal(rejected(metrics, "controller", "bad_signature"), 1);
    await registry.read(now + 2);
    assert.equal(rejected(metrics, "controller", "bad_signature"), 1, "refused once, not per read");
    // Restoring the original text (a new heartbeat) makes it believed again.
    await redis.set(names.node("beta"), raw, "PX", TTL_MS);
    await redis.zadd(names.nodeIndex, now + 3, "beta");
    assert.deepEqual(
      (await registry.read(now + 3)).map((n) => [n.hostname, n.absent === true]),
      [
        ["alpha", false],
        ["beta", false],
      ],
    );
  });

  test("a registration past its lifetime is refused even when its text is cached; the host is absent", async () => {
    const { names, metrics, registry, beat } = reader("rr-stale");
    const now = Date.now();
    await beat("alpha", now);
    assert.equal((await registry.read(now)).length, 1);
    const later = now + TTL_MS + SKEW_MS + 1;
    const nodes = await registry.read(later);
    assert.deepEqual(
      nodes.map((n) => [n.hostname, n.state, n.absent, n.detail]),
      [["alpha", "accepted", true, `no heartbeat since ${new Date(now).toISOString()}`]],
    );
    assert.equal(rejected(metrics, "controller", "stale_registration"), 1);
    await registry.read(later + 1);
    assert.equal(rejected(metrics, "controller", "stale_registration"), 1);
    // An expired entry leaves the index (its agent adds it back with its next heartbeat).
    assert.deepEqual(await redis.zrange(names.nodeIndex, 0, -1), []);
  });

  test("hosts whose registration is gone leave the index and stay listed as absent", async () => {
    const { names, registry, beat } = reader("rr-gone");
    const now = Date.now();
    await beat("alpha", now);
    await beat("beta", now);
    await registry.read(now);
    await redis.del(names.node("alpha"));
    await redis.zadd(names.nodeIndex, now + 1, "alpha");
    assert.deepEqual(
      (await registry.read(now + 1)).map((n) => [n.hostname, n.absent === true]),
      [
        ["alpha", true],
        ["beta", false],
      ],
    );
    assert.deepEqual(await redis.zrange(names.nodeIndex, 0, -1), ["beta"]);
  });
});
