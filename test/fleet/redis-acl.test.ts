/**
 * Role-separated Redis credentials (app/redis-acl.ts) against real redis-servers: the shipped
 * example is the generator's output; with the agent credential a real agent registers and
 * answers a real controller (single server, Cluster, Sentinel with failover) without a single
 * refused command, and is refused every other key, channel and command; the bot credential
 * runs the bot's commands but no administration; `commodore start`'s embedded Redis applies
 * the ACL with generated, kept passwords that never reach the log.
 */
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { main } from "../../cli/main.ts";
import { startServices } from "../../app/services.ts";
import { CREDENTIALS_DIR } from "../../app/redis-server.ts";
import { embeddedRawConfig } from "../../config/embedded.ts";
import { configSchema } from "../../config/schema.ts";
import { createAgent, type Agent } from "../../executors/fleet/agent/agent.ts";
import {
  createFleetExecutor,
  type FleetExecutor,
} from "../../executors/fleet/controller/controller.ts";
import { signerLine } from "../../executors/fleet/keygen.ts";
import { fleetNames } from "../../executors/fleet/protocol/channels.ts";
import type { FleetResult } from "../../executors/fleet/types.ts";
import { firstBootKey } from "../../executors/provision/first-boot.ts";
import { knockKeys } from "../../executors/provision/knocks.ts";
import { DEFAULT_REDIS_PREFIX } from "../../executors/provision/options.ts";
import { queueKeys } from "../../executors/provision/queue/keys.ts";
import { OptionsError } from "../../lib/errors.ts";
import { createLogger, silentLogger } from "../../lib/log.ts";
import {
  AGENT_USER,
  BOT_USER,
  PLACEHOLDER_SHA256,
  agentRules,
  botRules,
  ensurePasswordFile,
  passwordSha256,
  redisAcl,
} from "../../app/redis-acl.ts";
import { parseUnixUrl } from "../../lib/redis.ts";
import { RedisLease, leaseKeys } from "../../lib/redis/lease.ts";
import { waitFor } from "../harness/ports.ts";
import {
  aclDenials,
  resetAclLog,
  startAclRedis,
  startAclSentinel,
  userInfo,
  makeLogins,
  writeTestAcl,
  type AclRedis,
} from "../harness/redis-acl.ts";
import { startCluster } from "../harness/redis-cluster.ts";
import { withProbe } from "../harness/redis-proc.ts";
import { startRedis } from "../harness/redis-server.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";
import { context } from "./helpers.ts";

const EXAMPLE = join(import.meta.dirname, "../../config/redis-users.acl.example");
const PREFIX = "commodore";
const names = fleetNames(PREFIX);
/** The audit stream, as bot/create.ts names it. */
const AUDIT_KEY = `${PREFIX}:audit`;
const ACK_TIMEOUT_MS = 2_000;

/** A real agent and a real controller, each on its own login, with the agent's key accepted. */
async function fleetOver(
  botUrl: string,
  agentUrl: string,
  hostname: string,
): Promise<{ agent: Agent; ping(): Promise<FleetResult>; stop(): Promise<void> }> {
  const dir = tempDir("commodore-acl-fleet-");
  const controllerKey = makeKey("ed25519", "controller");
  const hostKey = makeKey("ed25519", hostname);
  const allowedSignersPath = join(dir, "allowed_signers");
  writeFileSync(allowedSignersPath, `${signerLine("ops", controllerKey.publicLine)}\n`);
  const knownHostsPath = join(dir, "known_hosts");
  const [type, blob] = hostKey.publicLine.split(" ");
  writeFileSync(knownHostsPath, `${hostname} ${type} ${blob}\n`);
  const agent = createAgent({
    redisUrl: agentUrl,
    hostname,
    hostKeyPath: hostKey.privatePath,
    allowedSignersPath,
    facts: { role: "acl" },
  });
  await agent.start();
  const controller: FleetExecutor = createFleetExecutor({
    redisUrl: botUrl,
    keyPath: controllerKey.privatePath,
    principal: "ops",
    knownHostsPath,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    logger: silentLogger,
  });
  return {
    agent,
    ping: () => controller.execute({ provider: "ping", args: [], where: {} }, context()),
    async stop() {
      await controller.close();
      await agent.stop();
    },
  };
}

const pong = (result: FleetResult) => result.hosts.map((h) => [h.hostname, h.status, h.short]);

/** A client that gives up at once instead of reconnecting. */
function oneShot(url: string): Redis {
  const r = new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on("error", () => undefined);
  return r;
}

/** A client without login (and so without ioredis's ready check, which would fail first). */
function anonymousClient(target: number | string): Redis {
  const r = new Redis({
    ...(typeof target === "number" ? { port: target, host: "127.0.0.1" } : { path: target }),
    enableReadyCheck: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  r.on("error", () => undefined);
  return r;
}

describe("the ACL file", () => {
  test("the shipped example is the generator's output with the documented placeholders, and loads", async () => {
    const text = readFileSync(EXAMPLE, "utf8");
    const header = text.split("\n").filter((l) => l.startsWith("#"));
    const body = text
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .join("\n");
    assert.equal(
      body,
      redisAcl({
        prefix: PREFIX,
        passwordSha256: { bot: PLACEHOLDER_SHA256.bot, agent: PLACEHOLDER_SHA256.agent },
      }),
    );
    assert.ok(text.startsWith(header.join("\n")), "the documentation is at the top");
    assert.match(header.join("\n"), /PLACEHOLDERS/);
    const dir = tempDir("commodore-acl-example-");
    writeFileSync(join(dir, "users.acl"), body);
    const server = await startRedis(["--aclfile", join(dir, "users.acl")]);
    try {
      const anonymous = anonymousClient(server.port);
      await assert.rejects(anonymous.ping(), /NOAUTH/);
      anonymous.disconnect();
    } finally {
      await server.stop(true);
    }
  });

  test("rules follow the prefixes and refuse what cannot be written into a pattern", () => {
    assert.deepEqual(agentRules("acme").slice(3, 5), ["&acme:reply:{*}", "&acme:registrations"]);
    assert.ok(!agentRules("acme").some((r) => r.includes("~")), "agents get no key at all");
    assert.ok(botRules("acme").includes(`~${DEFAULT_REDIS_PREFIX}*`), "provisioning elsewhere");
    assert.ok(!botRules(PREFIX).includes(`~${DEFAULT_REDIS_PREFIX}*`), "covered by ~{commodore:*");
    assert.throws(() => agentRules("a b"), OptionsError);
    assert.throws(() => botRules(PREFIX, "{x}:*"), OptionsError);
    assert.throws(
      () => redisAcl({ passwordSha256: { bot: "secret", agent: PLACEHOLDER_SHA256.agent } }),
      /not a SHA-256/,
    );
  });

  test("password files are generated once with mode 0600 and kept", () => {
    const dir = join(tempDir("commodore-acl-pw-"), "credentials");
    const first = ensurePasswordFile(dir, "bot", "hint");
    assert.equal(first.created, true);
    assert.match(first.password, /^[0-9a-f]{64}$/);
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    const again = ensurePasswordFile(dir, "bot", "hint");
    assert.deepEqual([again.created, again.password], [false, first.password]);
    writeFileSync(join(dir, "agent.password"), "\n");
    assert.throws(() => ensurePasswordFile(dir, "agent", "hint"), /agent\.password is empty/);
  });

  test("`commodore redis-acl --password-dir` prints the hashes of the files it keeps, never a password", async () => {
    const dir = join(tempDir("commodore-acl-cli-"), "pw");
    const run = async (...extra: string[]) => {
      const out = { stdout: "", stderr: "" };
      const code = await main(["redis-acl", "--password-dir", dir, "--prefix", "acme", ...extra], {
        stdout: (t) => (out.stdout += t),
        stderr: (t) => (out.stderr += t),
        env: {},
        signal: new AbortController().signal,
      });
      return { code, ...out };
    };
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    const bot = readFileSync(join(dir, "bot.password"), "utf8").trim();
    const agent = readFileSync(join(dir, "agent.password"), "utf8").trim();
    for (const f of ["bot.password", "agent.password"])
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600);
    assert.equal(
      first.stdout,
      redisAcl({
        prefix: "acme",
        passwordSha256: { bot: passwordSha256(bot), agent: passwordSha256(agent) },
      }),
    );
    assert.match(first.stderr, /generated/);
    const second = await run();
    assert.equal(second.stdout, first.stdout, "passwords kept");
    assert.match(second.stderr, /kept/);
    const withReplication = await run("--replicas", "--sentinel");
    const replica = readFileSync(join(dir, "replica.password"), "utf8").trim();
    const sentinel = readFileSync(join(dir, "sentinel.password"), "utf8").trim();
    assert.ok(withReplication.stdout.startsWith(first.stdout));
    assert.match(
      withReplication.stdout,
      new RegExp(`^user commodore-replica on #${passwordSha256(replica)} `, "m"),
    );
    assert.match(
      withReplication.stdout,
      new RegExp(`^user commodore-sentinel on #${passwordSha256(sentinel)} `, "m"),
    );
    for (const out of [first, second, withReplication]) {
      for (const password of [bot, agent, replica, sentinel])
        assert.ok(!`${out.stdout}${out.stderr}`.includes(password), "no password printed");
    }
    const bad = await main(["redis-acl", "--prefix", "a*"], {
      stdout: () => undefined,
      stderr: () => undefined,
      env: {},
      signal: new AbortController().signal,
    });
    assert.equal(bad, 64, "a prefix with glob characters is a usage error");
  });
});

describe("one server with the ACL", () => {
  let server: AclRedis;
  before(async () => {
    server = await startAclRedis();
  });
  after(() => server.redis.stop(true));

  test("with the agent credential a real agent registers and answers a real controller, refused nothing", async () => {
    await resetAclLog(server.redis.port, server.logins);
    const fleet = await fleetOver(server.url("bot"), server.url("agent"), "acl01.example.com");
    try {
      assert.deepEqual(pong(await fleet.ping()), [["acl01.example.com", "ok", "pong"]]);
    } finally {
      await fleet.stop();
    }
    assert.deepEqual(await aclDenials(server.redis.port, server.logins), []);
  });

  test("the agent credential is refused every other key, channel and command", async () => {
    const agent = oneShot(server.url("agent"));
    const refused = async (what: string, op: () => Promise<unknown>) =>
      assert.rejects(op, /NOPERM/, what);
    try {
      const queue = queueKeys(DEFAULT_REDIS_PREFIX);
      const knocks = knockKeys(DEFAULT_REDIS_PREFIX);
      const lease = leaseKeys(PREFIX, "irc");
      const job = `${PREFIX}:job:{j1}`;
      const confirm = `${PREFIX}:confirm:ABC123`;
      await refused("write pins", () => agent.hset(names.pins, "www01", "ssh-ed25519 AAAA"));
      await refused("read pins", () => agent.hgetall(names.pins));
      await refused("write a job", () => agent.set(job, "{}"));
      await refused("read a job", () => agent.get(job));
      await refused("write the jobs index", () => agent.zadd(`${PREFIX}:jobs`, 1, "j1"));
      await refused("read the jobs index", () => agent.zrange(`${PREFIX}:jobs`, 0, -1));
      await refused("write a confirmation", () => agent.set(confirm, "{}"));
      await refused("read a confirmation", () => agent.get(confirm));
      await refused("write the audit stream", () => agent.xadd(AUDIT_KEY, "*", "k", "v"));
      await refused("read the audit stream", () => agent.xrevrange(AUDIT_KEY, "+", "-"));
      await refused("write the provisioning queue", () => agent.lpush(queue.pending, "prov-1"));
      await refused("read the provisioning queue", () => agent.lrange(queue.pending, 0, -1));
      await refused("write a provisioning job", () => agent.hset(queue.job("prov-1"), "a", "b"));
      await refused("read a provisioning job", () => agent.hgetall(queue.job("prov-1")));
      await refused("queue a knock", () => agent.lpush(knocks.list, "{}"));
      await refused("write a first-boot marker", () =>
        agent.set(firstBootKey(DEFAULT_REDIS_PREFIX, "www01"), "1"),
      );
      await refused("take a lease", () => agent.set(lease.holder, "me", "PX", 10_000));
      await refused("read a lease", () => agent.get(lease.holder));
      await refused("bump a fence", () => agent.incr(lease.fence));
      await refused("run a script", () => agent.eval("return 1", 0));
      await refused("read a registration", () => agent.get(names.node("acl01.example.com")));
      await refused("read the registry index", () => agent.zrange(names.nodeIndex, 0, -1));
      await refused("read registrations in bulk", () =>
        agent.mget(names.node("a"), names.node("b")),
      );
      // Hiding, displacing or flooding another host through the registry (issue 22).
      await refused("delete a registration", () => agent.del(names.node("acl01.example.com")));
      await refused("overwrite a registration", () =>
        agent.set(names.node("acl01.example.com"), "{}"),
      );
      await refused("remove a host from the index", () =>
        agent.zrem(names.nodeIndex, "acl01.example.com"),
      );
      await refused("add to the index", () => agent.zadd(names.nodeIndex, 1, "junk01"));
      await refused("overwrite the index", () => agent.set(names.nodeIndex, "garbage"));
      await refused("write last-known facts", () => agent.hset(names.lastKnown, "a", "b"));
      await refused("mark a registrar", () => agent.set(names.registrar, "me"));
      await refused("write an unrelated key", () => agent.set("unrelated", "1"));
      await refused("publish a request", () => agent.publish(names.requests, "{}"));
      await refused("publish a job event", () => agent.publish(`${job}:events`, "{}"));
      await refused("publish an IRC notice", () => agent.publish(`${PREFIX}:irc:notices`, "{}"));
      await refused("list keys", () => agent.keys("*"));
      await refused("scan keys", () => agent.scan(0));
      await refused("read the configuration", () => agent.config("GET", "*"));
      await refused("flush", () => agent.flushall());
      await refused("list users", () => agent.call("ACL", "LIST"));
      await refused("list clients", () => agent.client("LIST"));
      await refused("ping", () => agent.ping());
    } finally {
      agent.disconnect();
    }
    const listener = oneShot(server.url("agent"));
    try {
      await assert.rejects(listener.subscribe(names.reply("someone-else")), /NOPERM/);
      await assert.rejects(listener.subscribe(names.registrations), /NOPERM/);
      await assert.rejects(listener.subscribe(`${PREFIX}:irc:notices`), /NOPERM/);
      await assert.rejects(listener.psubscribe(`${PREFIX}:*`), /NOPERM/);
    } finally {
      listener.disconnect();
    }
  });

  test("without credentials, or with a wrong password, nothing is allowed", async () => {
    const anonymous = anonymousClient(server.redis.port);
    try {
      await assert.rejects(anonymous.ping(), /NOAUTH/);
      await assert.rejects(anonymous.get(`${PREFIX}:job:{x}`), /NOAUTH/);
      await assert.rejects(anonymous.call("AUTH", AGENT_USER, "not-the-password"), /WRONGPASS/);
      await assert.rejects(anonymous.call("AUTH", "default", ""), /WRONGPASS/);
    } finally {
      anonymous.disconnect();
    }
  });

  test("the bot credential runs the bot's commands (scripts, streams, pub/sub) but no administration", async () => {
    const bot = oneShot(server.url("bot"));
    const lease = new RedisLease({
      redis: bot,
      keys: leaseKeys(PREFIX, "irc"),
      logger: silentLogger,
      onAcquired: () => undefined,
      onLost: () => undefined,
    });
    try {
      await lease.start();
      assert.equal(lease.held, true, "lease scripts (EVAL) run");
      await lease.stop();
      assert.match(String(await bot.xadd(AUDIT_KEY, "*", "k", "v")), /^\d+-\d+$/);
      assert.equal(await bot.publish(names.requests, "{}"), 0);
      assert.equal(await bot.set(`{${PREFIX}:provision}:seq`, "1"), "OK");
      const refused = async (what: string, op: () => Promise<unknown>) =>
        assert.rejects(op, /NOPERM/, what);
      await refused("write outside the prefix", () => bot.set("unrelated", "1"));
      await refused("publish outside the prefix", () => bot.publish("unrelated", "{}"));
      await refused("list keys", () => bot.keys("*"));
      await refused("read the configuration", () => bot.config("GET", "*"));
      await refused("flush", () => bot.flushall());
      await refused("list users", () => bot.call("ACL", "LIST"));
      await refused("kill clients", () => bot.client("KILL", "ID", "1"));
      await refused("replace the function library", () => bot.call("FUNCTION", "FLUSH"));
      await refused("flush the script cache", () => bot.call("SCRIPT", "FLUSH"));
      await refused("shut down", () => bot.call("SHUTDOWN", "NOSAVE"));
    } finally {
      bot.disconnect();
    }
  });
});

describe("a Redis Cluster with the ACL on every node", () => {
  test("an agent registers and answers over sharded pub/sub, refused nothing", async () => {
    const dir = tempDir("commodore-acl-cluster-");
    const acl = join(dir, "users.acl");
    // Open while `redis-cli --cluster create` joins the nodes, then the real ACL.
    writeFileSync(acl, "user default on nopass ~* &* +@all\n");
    const cluster = await startCluster(["--aclfile", acl]);
    const logins = makeLogins();
    try {
      writeFileSync(acl, readFileSync(writeTestAcl(tempDir("commodore-acl-"), logins)));
      for (const node of cluster.nodes) await withProbe(node.port, (r) => r.call("ACL", "LOAD"));
      const nodes = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(",");
      const fleet = await fleetOver(
        `cluster://${userInfo(BOT_USER, logins.bot)}${nodes}`,
        `cluster://${userInfo(AGENT_USER, logins.agent)}${nodes}`,
        "acl-cluster01.example.com",
      );
      try {
        assert.deepEqual(pong(await fleet.ping()), [["acl-cluster01.example.com", "ok", "pong"]]);
      } finally {
        await fleet.stop();
      }
      for (const node of cluster.nodes)
        assert.deepEqual(await aclDenials(node.port, logins), [], `node ${node.port}`);
    } finally {
      await cluster.stop();
    }
  });
});

describe("Sentinel with the ACL on every data node", () => {
  test("replication, monitoring and a failover work; the agent follows and answers, refused nothing", async () => {
    const sentinel = await startAclSentinel();
    try {
      const fleet = await fleetOver(
        sentinel.url("bot"),
        sentinel.url("agent"),
        "acl-sentinel01.example.com",
      );
      try {
        const expected = [["acl-sentinel01.example.com", "ok", "pong"]];
        assert.deepEqual(pong(await fleet.ping()), expected);
        await sentinel.killPrimary();
        await waitFor(
          "the agent answering through the promoted replica",
          async () => JSON.stringify(pong(await fleet.ping())) === JSON.stringify(expected),
          20_000,
          200,
        );
      } finally {
        await fleet.stop();
      }
      assert.deepEqual(await aclDenials(sentinel.replicaPort, sentinel.logins), []);
    } finally {
      await sentinel.stop();
    }
  });
});

describe("commodore start's embedded Redis", () => {
  test("applies the ACL: the local agent uses the agent login, which may not write a job; passwords are kept and never logged", async () => {
    const stateDir = join(tempDir("commodore-acl-start-"), "state");
    const raw = embeddedRawConfig();
    const config = configSchema.parse({
      ...raw,
      http: { ...(raw["http"] as object), listen: "127.0.0.1:0" },
    });
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", sink: (l) => lines.push(l) });
    const env = { PATH: process.env["PATH"] ?? "" };
    const credentials = join(stateDir, "redis", CREDENTIALS_DIR);
    const start = () => startServices({ config, stateDir, env, logger });
    let services = await start();
    let passwords: string[] = [];
    try {
      const embedded = services.embeddedRedis;
      assert.ok(embedded, "no Redis configured, so the embedded one runs");
      passwords = ["bot", "agent"].map((role) =>
        readFileSync(join(credentials, `${role}.password`), "utf8").trim(),
      );
      for (const role of ["bot", "agent"])
        assert.equal(statSync(join(credentials, `${role}.password`)).mode & 0o777, 0o600);
      assert.equal(parseUnixUrl(embedded.url)?.username, BOT_USER);
      assert.equal(parseUnixUrl(embedded.agentUrl)?.username, AGENT_USER);
      assert.equal(parseUnixUrl(embedded.url)?.path, embedded.socket);
      assert.equal(
        statSync(embedded.socket).mode & 0o777,
        0o700,
        "only its owner reaches the socket",
      );

      const res = await fetch(`${services.httpUrl ?? ""}/fleet`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ args: ["ping"] }),
      });
      const body = (await res.json()) as { count: number; summary: { ok: number } };
      assert.deepEqual(
        [res.status, body.count, body.summary.ok],
        [200, 1, 1],
        "local agent answers",
      );

      const agent = new Redis({
        ...parseUnixUrl(embedded.agentUrl),
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      agent.on("error", () => undefined);
      try {
        await assert.rejects(agent.set(`${PREFIX}:job:{forged}`, "{}"), /NOPERM/);
      } finally {
        agent.disconnect();
      }
      const anonymous = anonymousClient(embedded.socket);
      await assert.rejects(anonymous.ping(), /NOAUTH/);
      anonymous.disconnect();
    } finally {
      await services.stop();
    }
    services = await start();
    await services.stop();
    const again = ["bot", "agent"].map((role) =>
      readFileSync(join(credentials, `${role}.password`), "utf8").trim(),
    );
    assert.deepEqual(again, passwords, "generated once, reused on restart");
    const log = lines.join("\n");
    assert.match(log, /embedded redis-server started/);
    for (const password of passwords) assert.ok(!log.includes(password), "no password logged");
  });
});
