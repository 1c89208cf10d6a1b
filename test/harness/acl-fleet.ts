/**
 * A real fleet behind Commodore's shipped Redis ACL, for attack tests: a redis-server running
 * the generated users (test/harness/redis-acl.ts), real agents that log in as the agent user
 * (`commodore-agent`) each with its own ssh-keygen host key, controllers that log in as the bot
 * user and accept hosts with controller-signed records (`enrollment: "manual"`), and an
 * attacker client holding the agent credential, which every agent host has.
 */
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { AGENT_USER } from "../../app/redis-acl.ts";
import { createAgent } from "../../executors/fleet/agent/agent.ts";
import {
  createFleetExecutor,
  type FleetExecutor,
  type FleetExecutorOptions,
} from "../../executors/fleet/controller/controller.ts";
import { signerLine } from "../../executors/fleet/keygen.ts";
import { fleetNames } from "../../executors/fleet/protocol/channels.ts";
import { providerRegistry } from "../../executors/fleet/providers/index.ts";
import { createLogger, silentLogger, type Logger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import type { TestAgent } from "./agents.ts";
import { waitFor } from "./ports.ts";
import { spawnTracked, stopChild } from "./process.ts";
import { ADMIN_USER, startAclRedis, type AclRedis } from "./redis-acl.ts";
import { makeKey, type TestKey } from "./ssh-keys.ts";
import { tempDir } from "./tmp.ts";

/** The prefix the shipped ACL is written for. */
export const ACL_PREFIX = "commodore";
/** Fleet key and channel names under {@link ACL_PREFIX}. */
export const aclNames = fleetNames(ACL_PREFIX);

/** One agent of an ACL fleet. */
export interface AclAgentSpec {
  readonly hostname: string;
  readonly facts?: Record<string, string>;
  /** The host key (default: a fresh ed25519 key). */
  readonly key?: TestKey;
  readonly heartbeatMs?: number;
  readonly registrationTtlMs?: number;
}

/** A controller of the fleet, its metrics and the log lines it wrote. */
export type AclController = FleetExecutor & {
  readonly metrics: MetricsRegistry;
  readonly logLines: string[];
};

/** A running ACL fleet. */
export interface AclFleet {
  readonly server: AclRedis;
  readonly port: number;
  readonly controllerKey: TestKey;
  readonly allowedSignersPath: string;
  /** The first agent started under each hostname (the real one, not an impostor). */
  readonly agents: Map<string, TestAgent>;
  /** A client holding the agent credential: what any agent host can do. */
  readonly attacker: Redis;
  /** The test administrator (INFO, FLUSH-free inspection). */
  readonly admin: Redis;
  addAgent(spec: AclAgentSpec): Promise<TestAgent>;
  /** An agent in a child process (so it can be SIGKILLed), logged in as the agent user. */
  spawnAgent(spec: AclAgentSpec): Promise<{ child: ChildProcess; key: TestKey }>;
  /** A controller on the bot login (`enrollment: "manual"`), its log lines collected. */
  controller(opts?: Partial<FleetExecutorOptions>): AclController;
  /** Accepts the keys `hostnames` present now (controller-signed records), as an operator. */
  accept(c: FleetExecutor, hostnames: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

function client(port: number, user: string, password: string): Redis {
  const r = new Redis({ port, host: "127.0.0.1", username: user, password });
  r.on("error", () => undefined);
  return r;
}

/** Starts the ACL redis-server and `specs` agents on the agent login. */
export async function startAclFleet(specs: readonly AclAgentSpec[]): Promise<AclFleet> {
  const server = await startAclRedis();
  const port = server.redis.port;
  const controllerKey = makeKey("ed25519", "controller");
  const dir = tempDir("commodore-acl-fleet-");
  const allowedSignersPath = join(dir, "allowed_signers");
  writeFileSync(allowedSignersPath, `${signerLine("ops", controllerKey.publicLine)}\n`);
  const agents = new Map<string, TestAgent>();
  /** Every agent started (an impostor replaces its hostname's entry in `agents`). */
  const started: TestAgent[] = [];
  const controllers: FleetExecutor[] = [];
  const children: ChildProcess[] = [];
  const attacker = client(port, AGENT_USER, server.logins.agent);
  const admin = client(port, ADMIN_USER, server.logins.admin);

  const agentOptions = (spec: AclAgentSpec, key: TestKey) => ({
    redisUrl: server.url("agent"),
    hostname: spec.hostname,
    hostKeyPath: key.privatePath,
    allowedSignersPath,
    facts: spec.facts ?? {},
    ...(spec.heartbeatMs === undefined ? {} : { heartbeatMs: spec.heartbeatMs }),
    ...(spec.registrationTtlMs === undefined ? {} : { registrationTtlMs: spec.registrationTtlMs }),
  });

  const addAgent = async (spec: AclAgentSpec): Promise<TestAgent> => {
    const key = spec.key ?? makeKey("ed25519", spec.hostname);
    const metrics = new MetricsRegistry();
    const agent = createAgent({
      ...agentOptions(spec, key),
      logger: silentLogger,
      metrics,
      providers: providerRegistry([]),
    });
    await agent.start();
    const entry = { agent, key, metrics };
    if (!agents.has(spec.hostname)) agents.set(spec.hostname, entry);
    started.push(entry);
    return entry;
  };
  try {
    for (const spec of specs) await addAgent(spec);
  } catch (err) {
    await server.redis.stop(true);
    throw err;
  }

  return {
    server,
    port,
    controllerKey,
    allowedSignersPath,
    agents,
    attacker,
    admin,
    addAgent,
    async spawnAgent(spec) {
      const key = spec.key ?? makeKey("ed25519", spec.hostname);
      const child = spawnTracked(
        process.execPath,
        ["--import", "tsx", join(import.meta.dirname, "../fleet/fixtures/agent.ts")],
        {
          stdio: ["ignore", "pipe", "inherit"],
          env: { ...process.env, FIXTURE_AGENT: JSON.stringify(agentOptions(spec, key)) },
        },
      );
      children.push(child);
      let out = "";
      child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
      await waitFor(`child agent ${spec.hostname}`, () => out.includes("ready"), 20_000);
      return { child, key };
    },
    controller(opts = {}) {
      const metrics = new MetricsRegistry();
      const logLines: string[] = [];
      const logger: Logger = createLogger({ level: "debug", sink: (l) => logLines.push(l) });
      const c = createFleetExecutor({
        redisUrl: server.url("bot"),
        keyPath: controllerKey.privatePath,
        principal: "ops",
        logger,
        metrics,
        ackTimeoutMs: 600,
        enrollment: "manual",
        ...opts,
      });
      controllers.push(c);
      return Object.assign(c, { metrics, logLines });
    },
    async accept(c, hostnames) {
      for (const h of hostnames) await c.enrollment.accept(h, "alice");
      // One read after the acceptances: the controllers remember the hosts' verified facts.
      await c.nodes();
    },
    async stop() {
      await Promise.all(children.map((c) => stopChild(c, "SIGKILL")));
      await Promise.all(controllers.map((c) => c.close()));
      await Promise.all(started.map((a) => a.agent.stop()));
      attacker.disconnect();
      admin.disconnect();
      await server.redis.stop(true);
    },
  };
}

/** Warn (and error) lines among JSON log lines. */
export function warnLines(lines: readonly string[]): string[] {
  return lines.filter((l) => /"level":"(warn|error)"/.test(l));
}
