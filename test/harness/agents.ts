/**
 * A real fleet for tests: a private redis-server, a controller key trusted through an
 * allowed_signers file, and N in-process agents each with its own ssh-keygen host key and
 * facts. Agents can also be spawned as child processes (see test/fleet/fixtures/agent.ts) so a
 * test can kill one mid-command.
 */
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAgent, type Agent } from "../../executors/fleet/agent/agent.ts";
import {
  createFleetExecutor,
  type FleetExecutor,
  type FleetExecutorOptions,
} from "../../executors/fleet/controller/controller.ts";
import { DEFAULT_ANY_SIGNER } from "../../executors/fleet/agent/authorization.ts";
import { signerLine } from "../../executors/fleet/keygen.ts";
import type { AgentConfigInput } from "../../executors/fleet/options.ts";
import { providerRegistry } from "../../executors/fleet/providers/index.ts";
import type { Provider } from "../../executors/fleet/providers/provider.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { waitFor } from "./ports.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";
import { makeKey, type TestKey } from "./ssh-keys.ts";
import { tempDir } from "./tmp.ts";
import { spawnTracked } from "./process.ts";

/** One agent to start. */
export interface AgentSpec {
  readonly hostname: string;
  readonly facts?: Record<string, string>;
  readonly keyType?: "ed25519" | "ecdsa" | "rsa";
  /** Extra providers (e.g. a slow one) added to the built-ins. */
  readonly providers?: readonly Provider[];
  /** Further agent options (actions, authorization, limits). */
  readonly options?: Partial<AgentConfigInput>;
  /** The host key to use (default: a fresh one of `keyType`). */
  readonly key?: TestKey;
}

/** A running in-process agent with its key and metrics. */
export interface TestAgent {
  readonly agent: Agent;
  readonly key: TestKey;
  readonly metrics: MetricsRegistry;
}

/** Everything a fleet test needs. */
export interface TestFleet {
  readonly redis: TestRedis;
  readonly controllerKey: TestKey;
  readonly allowedSignersPath: string;
  readonly agents: Map<string, TestAgent>;
  readonly logLines: string[];
  readonly logger: Logger;
  addAgent(spec: AgentSpec): Promise<TestAgent>;
  /** A controller for this fleet (closed by `stop`). */
  controller(
    opts?: Partial<FleetExecutorOptions>,
  ): FleetExecutor & { readonly metrics: MetricsRegistry };
  /** Spawns an agent as a child process and waits until it registered. */
  spawnAgent(spec: { hostname: string; facts?: Record<string, string> }): Promise<ChildProcess>;
  stop(): Promise<void>;
}

/** Starts redis, writes keys and allowed_signers, and starts `specs` agents. */
export async function startFleet(
  specs: readonly AgentSpec[],
  principal = "ops",
): Promise<TestFleet> {
  const redis = await startRedis();
  const controllerKey = makeKey("ed25519", "controller");
  const dir = tempDir("commodore-fleet-");
  const allowedSignersPath = join(dir, "allowed_signers");
  writeFileSync(allowedSignersPath, `${signerLine(principal, controllerKey.publicLine)}\n`);
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", sink: (l) => logLines.push(l) });
  const agents = new Map<string, TestAgent>();
  const controllers: FleetExecutor[] = [];
  const children: ChildProcess[] = [];

  const addAgent = async (spec: AgentSpec): Promise<TestAgent> => {
    const key = spec.key ?? makeKey(spec.keyType ?? "ed25519", spec.hostname);
    const metrics = new MetricsRegistry();
    const agent = createAgent({
      redisUrl: redis.url,
      hostname: spec.hostname,
      hostKeyPath: key.privatePath,
      allowedSignersPath,
      facts: spec.facts ?? {},
      logger: logger.child({ agent: spec.hostname }),
      metrics,
      providers: providerRegistry(spec.providers ?? []),
      // Test providers are opened to every signer like the read-only built-ins.
      authorization: {
        anySigner: [...DEFAULT_ANY_SIGNER, ...(spec.providers ?? []).map((p) => p.name)],
      },
      ...spec.options,
    });
    await agent.start();
    const entry = { agent, key, metrics };
    agents.set(spec.hostname, entry);
    return entry;
  };
  for (const spec of specs) await addAgent(spec);

  return {
    redis,
    controllerKey,
    allowedSignersPath,
    agents,
    logLines,
    logger,
    addAgent,
    controller(opts = {}) {
      const metrics = new MetricsRegistry();
      const c = createFleetExecutor({
        redisUrl: redis.url,
        keyPath: controllerKey.privatePath,
        principal,
        logger,
        metrics,
        ackTimeoutMs: 1_000,
        // The harness's agents are the test's own: accepted on first sight. Enrollment tests
        // pass `enrollment: "manual"` (the product default) and accept hosts themselves.
        enrollment: "tofu",
        ...opts,
      });
      controllers.push(c);
      return Object.assign(c, { metrics });
    },
    async spawnAgent(spec) {
      const key = makeKey("ed25519", spec.hostname);
      const child = spawnTracked(
        process.execPath,
        ["--import", "tsx", join(import.meta.dirname, "../fleet/fixtures/agent.ts")],
        {
          stdio: ["ignore", "pipe", "inherit"],
          env: {
            ...process.env,
            FIXTURE_AGENT: JSON.stringify({
              redisUrl: redis.url,
              hostname: spec.hostname,
              hostKeyPath: key.privatePath,
              allowedSignersPath,
              facts: spec.facts ?? {},
            }),
          },
        },
      );
      children.push(child);
      let out = "";
      child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
      await waitFor(`child agent ${spec.hostname}`, () => out.includes("ready"));
      return child;
    },
    async stop() {
      for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
      await Promise.all(controllers.map((c) => c.close()));
      await Promise.all([...agents.values()].map((a) => a.agent.stop()));
      await redis.stop(true);
    },
  };
}

/** A provider that sleeps `ms` (honouring abort), for tests only. */
export function sleepProvider(name = "sleep"): Provider {
  return {
    name,
    timeoutMs: 60_000,
    async run(args, ctx) {
      const ms = Number(args[0] ?? "1000");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        });
      });
      return { exit: 0, short: `slept ${ms} ms` };
    },
  };
}

/** A provider that never settles, for tests only. */
export const hangProvider: Provider = {
  name: "hang",
  timeoutMs: 300,
  run: () => new Promise(() => undefined),
};

/** A provider that throws, for tests only. */
export const throwProvider: Provider = {
  name: "explode",
  timeoutMs: 1_000,
  run: async () => {
    throw new Error("kaboom");
  },
};
