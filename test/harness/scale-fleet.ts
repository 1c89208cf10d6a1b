/**
 * Real agents and controllers against any Redis topology, addressed by a topology URL
 * (`redis://…`, `sentinel://…/name`, `cluster://…`): keys from ssh-keygen, an allowed_signers
 * file trusting the controller key, agents started in-process.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createAgent, type Agent } from "../../executors/fleet/agent/agent.ts";
import { DEFAULT_ANY_SIGNER } from "../../executors/fleet/agent/authorization.ts";
import {
  createFleetExecutor,
  type FleetExecutor,
  type FleetExecutorOptions,
} from "../../executors/fleet/controller/controller.ts";
import { signerLine } from "../../executors/fleet/keygen.ts";
import { providerRegistry } from "../../executors/fleet/providers/index.ts";
import type { Provider } from "../../executors/fleet/providers/provider.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import { makeKey, type TestKey } from "./ssh-keys.ts";
import { tempDir } from "./tmp.ts";

/** Agents and controllers on one topology. */
export interface ScaleFleet {
  readonly controllerKey: TestKey;
  readonly agents: Map<string, Agent>;
  readonly logLines: string[];
  readonly logger: Logger;
  /** Starts an agent with `facts` (and extra providers). */
  addAgent(
    hostname: string,
    facts?: Record<string, string>,
    providers?: Provider[],
  ): Promise<Agent>;
  /** A controller (closed by `stop`). */
  controller(opts?: Partial<FleetExecutorOptions>): FleetExecutor;
  stop(): Promise<void>;
}

/** Prepares keys for a fleet talking through `url`. */
export function scaleFleet(url: string, heartbeatMs = 10_000): ScaleFleet {
  const controllerKey = makeKey("ed25519", "controller");
  const dir = tempDir("commodore-scale-");
  const allowedSignersPath = join(dir, "allowed_signers");
  writeFileSync(allowedSignersPath, `${signerLine("ops", controllerKey.publicLine)}\n`);
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", sink: (l) => logLines.push(l) });
  const agents = new Map<string, Agent>();
  const controllers: FleetExecutor[] = [];
  return {
    controllerKey,
    agents,
    logLines,
    logger,
    async addAgent(hostname, facts = {}, providers = []) {
      const key = makeKey("ed25519", hostname);
      const agent = createAgent({
        redisUrl: url,
        hostname,
        hostKeyPath: key.privatePath,
        allowedSignersPath,
        facts,
        heartbeatMs,
        logger: logger.child({ agent: hostname }),
        providers: providerRegistry(providers),
        // Test providers are opened to every signer like the read-only built-ins.
        authorization: { anySigner: [...DEFAULT_ANY_SIGNER, ...providers.map((p) => p.name)] },
      });
      await agent.start();
      agents.set(hostname, agent);
      return agent;
    },
    controller(opts = {}) {
      const c = createFleetExecutor({
        redisUrl: url,
        keyPath: controllerKey.privatePath,
        principal: "ops",
        logger,
        ackTimeoutMs: 2_000,
        enrollment: "tofu", // the harness's own agents, trusted on first sight
        ...opts,
      });
      controllers.push(c);
      return c;
    },
    async stop() {
      await Promise.all(controllers.map((c) => c.close()));
      await Promise.all([...agents.values()].map((a) => a.stop()));
    },
  };
}
