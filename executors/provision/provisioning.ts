/**
 * Composition of the provisioning executor: one queue fed by four triggers (command, HTTP
 * callback, first boot, knock), one runner. The bot wires its Redis connection, host
 * directory (the fleet registry) and notifier (IRC notices) to this, and serves the callback
 * over HTTP (transports/http/routes/provision-callback.ts).
 */
import type { Logger } from "../../lib/log.ts";
import type { MetricsRegistry } from "../../lib/metrics.ts";
import type { RedisClient } from "../../lib/redis/client.ts";
import type { StateSealer } from "../../lib/seal.ts";
import type { Executor } from "../executor.ts";
import { createProvisionCallback, type ProvisionCallback } from "./callback.ts";
import { createProvisionExecutor } from "./executor.ts";
import { createFirstBootTrigger, type FirstBootResult, type Registration } from "./first-boot.ts";
import type { HostDirectory } from "./hosts.ts";
import { KnockConsumer } from "./knocks.ts";
import { networkSet } from "./net.ts";
import type { Notifier } from "./notifier.ts";
import type { ProvisionOptions } from "./options.ts";
import type { PlaybookDefaults } from "./playbooks.ts";
import { ProvisionQueue } from "./queue/queue.ts";
import { createRedisPins } from "./runner/pins.ts";
import { createPlaybookRunner } from "./runner/run.ts";
import type { ProvisionProgress, ProvisionRequest, ProvisionResult } from "./types.ts";
import { createSpecValidator } from "./validate.ts";

/** What provisioning needs from the rest of the bot. */
export interface ProvisioningDeps {
  readonly options: ProvisionOptions;
  /** A non-blocking command connection (no subscriptions). */
  readonly redis: RedisClient;
  readonly directory: HostDirectory;
  /** Seals queue entries and verifies them and sealed knocks (from the controller key). */
  readonly sealer: StateSealer;
  readonly logger: Logger;
  readonly notifier?: Notifier;
  readonly metrics?: MetricsRegistry;
  readonly env?: NodeJS.ProcessEnv;
}

/** The assembled provisioning parts. */
export interface Provisioning {
  readonly queue: ProvisionQueue;
  readonly executor: Executor<ProvisionRequest, ProvisionResult, ProvisionProgress>;
  /** Call with every signature-verified agent registration. */
  readonly firstBoot: (registration: Registration) => Promise<FirstBootResult>;
  /** Handles AWX-style callbacks (the HTTP transport serves them at `/provision/callback`). */
  readonly callback: ProvisionCallback;
  /** Recovers interrupted runs and starts workers and the knock consumer. */
  start(): Promise<void>;
  /** Stops the consumer and workers, handing in-flight runs back to the queue. */
  stop(): Promise<void>;
}

/** Builds provisioning from validated options and injected dependencies. */
export function createProvisioning(deps: ProvisioningDeps): Provisioning {
  const { options, redis, directory, sealer, logger } = deps;
  const prefix = options.redisPrefix;
  const defaults: PlaybookDefaults = {
    defaultPlaybook: options.defaultPlaybook,
    firstBoot: options.firstBoot,
  };
  const run = createPlaybookRunner({
    options,
    directory,
    pins: createRedisPins(redis, prefix, sealer),
    logger,
  });
  const queue = new ProvisionQueue({
    redis,
    prefix,
    concurrency: options.concurrency,
    retries: options.retries,
    leaseMs: options.leaseMs,
    run,
    sealer,
    logger,
    validate: createSpecValidator(options),
    ...(deps.notifier ? { notifier: deps.notifier } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  const knocks = new KnockConsumer({
    redis,
    prefix,
    queue,
    directory,
    defaults,
    tofuNetworks: networkSet(options.tofuNetworks),
    sealer,
    logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  const executor = createProvisionExecutor({ queue, directory, defaults });
  return {
    queue,
    executor,
    firstBoot: createFirstBootTrigger({ redis, prefix, queue, defaults, logger }),
    callback: createProvisionCallback({
      options,
      queue,
      directory,
      logger,
      ...(deps.env ? { env: deps.env } : {}),
    }),
    async start() {
      await queue.start();
      await knocks.start();
    },
    async stop() {
      await knocks.stop();
      await executor.close();
      await queue.stop();
    },
  };
}
