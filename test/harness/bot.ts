/**
 * Builds a real bot (real Redis, real audit file) for tests, and collects the events of one
 * invocation.
 */
import { join } from "node:path";
import type { RedisClient } from "../../lib/redis/client.ts";
import { createBot, type BotBundle } from "../../bot/create.ts";
import type { BotEvent, Principal, TransportName } from "../../bot/contract.ts";
import type { FleetPort } from "../../bot/fleet-port.ts";
import { configSchema, type Config } from "../../config/schema.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import type { StateSealer } from "../../lib/seal.ts";
import { testSealer } from "./seal.ts";
import { tempDir } from "./tmp.ts";

/** A bot bundle plus helpers. */
export interface TestBot extends BotBundle {
  readonly auditFile: string;
  readonly metrics: MetricsRegistry;
  /** Seals the bot's confirmations and jobs (the test controller key; counts into `metrics`). */
  readonly sealer: StateSealer;
  /** Runs `text` as `principal` and returns every event. */
  run(principal: Principal, text: string, transport?: TransportName): Promise<BotEvent[]>;
}

/** Creates a bot from a raw configuration object (validated like a file). */
export function testBot(
  raw: Record<string, unknown>,
  redis: RedisClient,
  fleet?: FleetPort,
): TestBot {
  const auditFile = join(tempDir("commodore-audit-"), "audit.log");
  const withAudit = {
    ...raw,
    bot: { ...((raw["bot"] as object | undefined) ?? {}), audit: { file: auditFile } },
  };
  const config: Config = configSchema.parse(withAudit);
  const metrics = new MetricsRegistry();
  const sealer = testSealer({ metrics });
  const bundle = createBot({
    config,
    redis,
    logger: silentLogger,
    metrics,
    sealer,
    ...(fleet === undefined ? {} : { fleet }),
  });
  return {
    ...bundle,
    auditFile,
    metrics,
    sealer,
    async run(principal, text, transport = "cli") {
      const events: BotEvent[] = [];
      await bundle.bot.handle({ principal, transport, text }, (e) => events.push(e));
      return events;
    },
  };
}

/** A principal with roles. */
export function who(id: string, roles: string[] = []): Principal {
  return { id, roles, display: `test:${id}` };
}
