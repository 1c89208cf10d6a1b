/**
 * Assembles a bot from validated configuration, a Redis connection and (optionally) a fleet
 * executor. Transports get the bot, the principal directory (each resolves its own callers into
 * it) and the policy from here.
 */
import { errorMessage } from "../lib/errors.ts";
import type { PubSubBus } from "../lib/redis/bus.ts";
import type { RedisClient } from "../lib/redis/client.ts";
import type { Logger } from "../lib/log.ts";
import type { MetricsRegistry } from "../lib/metrics.ts";
import type { StateSealer } from "../lib/seal.ts";
import type { Config } from "../config/schema.ts";
import { AuditLog } from "./audit/log.ts";
import { Bot } from "./bot.ts";
import { builtinRegistry, checkGrants } from "./commands/builtins/index.ts";
import { ConfirmStore } from "./confirm/store.ts";
import type { FleetPort } from "./fleet-port.ts";
import { PrincipalDirectory } from "./identity/directory.ts";
import { JobCanceller } from "./jobs/cancel.ts";
import { RedisJobStore } from "./jobs/redis-store.ts";
import { Policy } from "./permissions/policy.ts";
import type { ProvisionPort } from "./provision-port.ts";

/** Inputs of {@link createBot}. */
export interface CreateBotOptions {
  readonly config: Config;
  readonly redis: RedisClient;
  /** The pub/sub bus carrying cancels between replicas; without one, `cancel` acts locally. */
  readonly bus?: PubSubBus;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Seals confirmations and jobs kept in Redis (derived from the controller key). */
  readonly sealer: StateSealer;
  readonly fleet?: FleetPort;
  /** Provisioning, when the configuration has a `provision` section. */
  readonly provision?: ProvisionPort;
}

/** A configured principal with every transport's fields (`principals[]`). */
export type ConfiguredPrincipal = Config["principals"][number];

/** A bot and the pieces transports need next to it. */
export interface BotBundle {
  readonly bot: Bot;
  /** The configured principals; each transport builds its caller resolver from it. */
  readonly principals: PrincipalDirectory<ConfiguredPrincipal>;
  readonly policy: Policy;
  readonly jobs: RedisJobStore;
  readonly audit: AuditLog;
  /** Stops jobs and flushes the audit file (the caller closes Redis and the fleet). */
  close(): Promise<void>;
}

/** Builds the bot. Throws OptionsError for grants naming unknown commands or arguments. */
export function createBot(options: CreateBotOptions): BotBundle {
  const { config, redis, logger, metrics, sealer } = options;
  const prefix = `${config.redis.prefix}:`;
  const policy = new Policy({ roles: config.roles, defaultRoles: config.bot.defaultRoles });
  const principals = new PrincipalDirectory(config.principals);
  const jobs = new RedisJobStore({
    redis,
    prefix,
    ttlSeconds: config.bot.jobTtlSeconds,
    sealer,
    maxJobs: config.bot.jobRetention.maxJobs,
    maxBytes: config.bot.jobRetention.maxBytes,
  });
  const auditErrors = metrics.counter(
    "commodore_audit_write_errors_total",
    "Audit entries that could not be written, by target",
  );
  const audit = new AuditLog({
    ...(config.bot.audit.file === undefined ? {} : { file: config.bot.audit.file }),
    redis,
    streamKey: `${prefix}audit`,
    streamMaxLen: config.bot.audit.streamMaxLen,
    logger,
    onWriteError: (target) => auditErrors.inc({ target }),
  });
  const canceller = new JobCanceller({
    prefix,
    sealer,
    logger,
    ...(options.bus === undefined ? {} : { bus: options.bus }),
  });
  canceller
    .start()
    .catch((err: unknown) =>
      logger.warn("cannot listen for cancels from other replicas", { error: errorMessage(err) }),
    );
  const confirms = new ConfirmStore(redis, prefix, config.bot.confirm.ttlSeconds, sealer);
  const providerRisks = Object.fromEntries(
    Object.entries(config.bot.providers).map(([name, p]) => [name, p.risk]),
  );
  const registry = builtinRegistry({
    policy,
    jobs,
    canceller,
    audit,
    fleet: options.fleet,
    provision: options.provision,
    providerRisks,
    confirmTtlSeconds: config.bot.confirm.ttlSeconds,
    metrics,
  });
  checkGrants(config.roles, registry);
  const fleetPort = options.fleet;
  const bot = new Bot({
    registry,
    policy,
    jobs,
    canceller,
    confirms,
    audit,
    logger,
    metrics,
    dangerousHostThreshold: config.bot.dangerousHostThreshold,
    requireOtherPerson: config.bot.confirm.requireOtherPerson,
    ...(fleetPort === undefined
      ? {}
      : {
          hostFacts: async (hostnames: readonly string[]) => {
            const wanted = new Set(hostnames);
            return (await fleetPort.nodes()).filter((n) => wanted.has(n.hostname));
          },
        }),
  });
  return {
    bot,
    principals,
    policy,
    jobs,
    audit,
    async close() {
      bot.stop();
      await canceller.stop();
      await audit.close();
    },
  };
}
