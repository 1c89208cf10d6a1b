/**
 * Provisioning inside `commodore start`, when the configuration has a `provision` section:
 * the executor behind the `provision` command, the callback mounted at `/provision/callback`,
 * first boot fed from the fleet registry (verified, pinned registrations only), the knock
 * consumer, and one-line notices to the configured IRC channels.
 */
import type { Config } from "../config/schema.ts";
import type { FleetExecutor } from "../executors/fleet/index.ts";
import {
  createFleetHostDirectory,
  createProvisioning,
  RegistrationWatcher,
} from "../executors/provision/index.ts";
import type { Logger } from "../lib/log.ts";
import type { MetricsRegistry } from "../lib/metrics.ts";
import type { PubSubBus } from "../lib/redis/bus.ts";
import type { RedisClient } from "../lib/redis/client.ts";
import type { StateSealer } from "../lib/seal.ts";
import { remoteAddress } from "../transports/http/auth.ts";
import type { HttpApp } from "../transports/http/context.ts";
import { createProvisionCallbackRoutes } from "../transports/http/routes/provision-callback.ts";
import type { IrcTransport } from "../transports/irc/irc-transport.ts";
import type { ProvisionPort } from "../bot/provision-port.ts";
import { noticeRelay } from "./irc-notices.ts";

/** Where the AWX-style callback is mounted on the HTTP app. */
export const PROVISION_CALLBACK_PATH = "/provision/callback";

/** What provisioning is built from. */
export interface RuntimeProvisioningDeps {
  readonly config: Config;
  /** The bot's command connection (provisioning never blocks or subscribes on it). */
  readonly redis: RedisClient;
  /** The bot's pub/sub bus: run notices between replicas (provisioning never closes it). */
  readonly bus: PubSubBus;
  readonly fleet: Pick<FleetExecutor, "nodes">;
  /** Seals the queue's entries (derived from the controller key, see services.ts). */
  readonly sealer: StateSealer;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly env: NodeJS.ProcessEnv;
}

/** Provisioning as the runtime wires it. */
export interface RuntimeProvisioning {
  /** For the bot's `provision` and `job prov-N` commands. */
  readonly port: ProvisionPort;
  /** Mounts the callback on the HTTP app (for `HttpDeps.routes`). */
  readonly routes: (app: HttpApp) => void;
  /**
   * Relays run notices (from any replica) to `provision.notices.channels` on the transport
   * `current` returns when a notice arrives: the IRC lease holder's (see irc-notices.ts).
   */
  attachIrc(current: () => IrcTransport | undefined): void;
  /** Recovers interrupted runs, starts workers, the knock consumer and first boot. */
  start(): Promise<void>;
  /** Stops first boot, knocks and workers; in-flight runs go back to the queue. */
  stop(): Promise<void>;
}

/** Builds provisioning when `provision` is configured, else undefined. */
export function createRuntimeProvisioning(
  deps: RuntimeProvisioningDeps,
): RuntimeProvisioning | undefined {
  const options = deps.config.provision;
  if (options === undefined) return undefined;
  const log = deps.logger.child({ component: "provisioning" });
  let irc: (() => IrcTransport | undefined) | undefined;
  const channels = options.notices.channels;
  const relay =
    channels.length === 0
      ? undefined
      : noticeRelay({
          bus: deps.bus,
          topic: `${deps.config.redis.prefix}:irc:notices`,
          channels,
          current: () => irc?.(),
          logger: log,
          metrics: deps.metrics,
        });
  const directory = createFleetHostDirectory(deps.fleet);
  const provisioning = createProvisioning({
    options,
    redis: deps.redis,
    directory,
    sealer: deps.sealer,
    logger: deps.logger,
    ...(relay === undefined ? {} : { notifier: relay.notifier }),
    metrics: deps.metrics,
    env: deps.env,
  });
  const watcher = new RegistrationWatcher({
    directory,
    firstBoot: provisioning.firstBoot,
    pollMs: options.firstBoot.pollMs,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  const { executor, queue } = provisioning;
  const port: ProvisionPort = {
    name: executor.name,
    execute: (request, context) => executor.execute(request, context),
    close: () => executor.close(),
    job: (jobId) => queue.get(jobId),
  };
  return {
    port,
    routes: (app) => {
      app.route(
        PROVISION_CALLBACK_PATH,
        createProvisionCallbackRoutes({
          callback: provisioning.callback,
          remoteAddress,
          metrics: deps.metrics,
        }),
      );
    },
    attachIrc(current) {
      irc = current;
    },
    async start() {
      await relay?.start();
      await provisioning.start();
      watcher.start();
      log.info("provisioning started", {
        playbookDir: options.playbookDir,
        concurrency: options.concurrency,
        noticeChannels: options.notices.channels,
      });
    },
    async stop() {
      await watcher.stop();
      await provisioning.stop();
      await relay?.stop();
    },
  };
}
