/**
 * Starts everything one `commodore start` runs: Redis (embedded or configured), keys, the
 * bot's one pub/sub bus, the fleet controller, an optional in-process agent, the bot, its
 * transports as one list — HTTP (with the status page and the voice webhook mounted on it),
 * then IRC (only while this replica holds the IRC lease in Redis, see docs/scaling.md) — and
 * (when configured) provisioning; and stops them again in reverse order.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConnectionOptions } from "node:tls";
import {
  createAgent,
  ENROLLMENT_LEDGER_FILE,
  type Agent,
  createFleetExecutor,
  type FleetExecutor,
  loadRequestIdentities,
  ensureKeys,
  loadPrivateKey,
} from "../executors/fleet/index.ts";
import { OptionsError } from "../lib/errors.ts";
import { redactUrlCredentials, type Logger } from "../lib/log.ts";
import { MetricsRegistry } from "../lib/metrics.ts";
import { closeRedis, waitReady } from "../lib/redis.ts";
import { createBus } from "../lib/redis/bus.ts";
import { StateSealer } from "../lib/seal.ts";
import { connectClient, describeTopology } from "../lib/redis/topology.ts";
import { parseListen, type Config, type ListenAddress } from "../config/schema.ts";
import { createStatus, type JobLink } from "../transports/http/status/index.ts";
import { tokenPrincipals } from "../transports/http/tokens.ts";
import { HttpTransport } from "../transports/http/transport.ts";
import type { IrcTransport } from "../transports/irc/irc-transport.ts";
import { createBot, type BotBundle } from "../bot/create.ts";
import type { Transport } from "../bot/transport.ts";
import { jobLinks, publicBaseUrl } from "./job-links.ts";
import { leaderTransport, type LeaderTransport } from "./leader-transport.ts";
import { createRuntimeProvisioning } from "./provisioning.ts";
import { checkRedisDurability } from "./redis-durability.ts";
import { startEmbeddedRedis, type EmbeddedRedis } from "./redis-server.ts";
import {
  ircTransport,
  startTransports,
  transportRoutes,
  type VoiceInjections,
} from "./transports.ts";

/** Inputs of {@link startServices}. */
export interface ServiceOptions {
  readonly config: Config;
  /** Holds Redis data, keys and the audit log. */
  readonly stateDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** Test injections for the voice webhook. */
  readonly voice?: VoiceInjections;
}

/** What is running. */
export interface Services {
  /** `http://host:port` of the HTTP transport, when enabled. */
  readonly httpUrl: string | undefined;
  readonly redisUrl: string;
  readonly embeddedRedis: EmbeddedRedis | undefined;
  readonly agent: Agent | undefined;
  /** Signed status-page links for jobs (IRC's `jobUrl`), when the status page is enabled. */
  readonly jobLink: JobLink | undefined;
  /**
   * The IRC transport of the current leadership term, when `irc` is configured and this
   * replica holds the IRC lease (see docs/scaling.md); undefined otherwise.
   */
  readonly irc: IrcTransport | undefined;
  stop(): Promise<void>;
}

/** TLS options for `rediss://` from `redis.tls` (files are read here, never logged). */
export function redisTls(config: Config): ConnectionOptions | undefined {
  const t = config.redis.tls;
  if (t === undefined) return undefined;
  const read = (key: "caFile" | "certFile" | "keyFile", path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new OptionsError(
        `redis.tls.${key}: expected a readable file, found ${(err as NodeJS.ErrnoException).code ?? "an error"} for ${path}`,
      );
    }
  };
  return {
    rejectUnauthorized: t.rejectUnauthorized,
    ...(t.caFile === undefined ? {} : { ca: read("caFile", t.caFile) }),
    ...(t.certFile === undefined ? {} : { cert: read("certFile", t.certFile) }),
    ...(t.keyFile === undefined ? {} : { key: read("keyFile", t.keyFile) }),
  };
}

/** Starts the services; on failure stops whatever already started and rethrows. */
export async function startServices(options: ServiceOptions): Promise<Services> {
  const { config, logger, env } = options;
  const stateDir = resolve(options.stateDir);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn("shutdown step failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    stops.length = 0;
  };
  try {
    // Before anything starts, so a missing or unusable key stops start-up with nothing to undo.
    const signers = loadRequestIdentities(config.controller.signers, "controller.signers");
    let embeddedRedis: EmbeddedRedis | undefined;
    let redisUrl = config.redis.url;
    if (redisUrl === undefined && config.redis.mode === "single") {
      embeddedRedis = await startEmbeddedRedis(join(stateDir, "redis"), env, {
        prefix: config.redis.prefix,
        provisionPrefix: config.provision?.redisPrefix,
      });
      stops.push(() => embeddedRedis?.stop() ?? Promise.resolve());
      redisUrl = embeddedRedis.url;
      logger.info("embedded redis-server started", {
        url: redactUrlCredentials(redisUrl),
        pid: embeddedRedis.pid,
      });
    }
    const tls = redisTls(config);
    const topology = { topology: config.redis, url: redisUrl, tls, env };
    redisUrl ??= describeTopology(topology);
    const redis = connectClient({ ...topology, name: "commodore-bot", logger });
    stops.push(() => closeRedis(redis));
    await waitReady(redis, redisUrl);
    // The embedded Redis is durable by construction (app/redis-server.ts); a configured one is
    // checked once and a Redis that persists nothing is reported. Never fails start-up.
    if (embeddedRedis === undefined) await checkRedisDurability(redis, logger);
    else if (embeddedRedis.convertedFromRdb)
      logger.info("embedded Redis converted to an append-only file", {
        aofDir: embeddedRedis.aofDir,
      });
    // One subscriber connection for everything under the bot's login: the fleet controller, a
    // local agent sharing that login, provisioning notices and the status page's live streams.
    // None of them closes it; it is closed after all of them (stops run in reverse).
    const bus = createBus(redis);
    stops.push(() => bus.close());

    const principal = config.controller.principal;
    const keys = ensureKeys(join(stateDir, "keys"), principal);
    const metrics = await new MetricsRegistry().withRuntimeMetrics();
    // Confirmations, jobs and provisioning entries in Redis are sealed with a key derived from
    // the controller key: every replica holding it verifies what the others wrote.
    const sealer = StateSealer.fromPrivateKey(
      loadPrivateKey(config.controller.keyPath ?? keys.controllerKey.privatePath).key,
      { metrics, logger },
    );
    const prefix = config.redis.prefix;
    let agent: Agent | undefined;
    if (config.agent?.local === true) {
      const { local: _local, hostKeyPath, allowedSignersPath, ...agentOptions } = config.agent;
      // On the embedded Redis the agent logs in as commodore-agent on connections of its own
      // (closed by agent.stop()); a configured Redis URL carries one login, which it shares.
      agent = createAgent({
        ...agentOptions,
        ...(embeddedRedis ? {} : { redis, bus }),
        redisUrl: embeddedRedis?.agentUrl ?? redisUrl,
        prefix,
        hostKeyPath: hostKeyPath ?? keys.hostKey.privatePath,
        allowedSignersPath: allowedSignersPath ?? keys.allowedSignersPath,
        logger,
        metrics,
      });
      // Registered before start so connections of a failed start are closed too.
      stops.push(() => agent?.stop() ?? Promise.resolve());
      await agent.start();
      logger.info("local agent started", {
        hostname: agent.hostname,
        fingerprint: agent.fingerprint,
      });
    }
    const { keyPath, signers: _signerFiles, ...controllerOptions } = config.controller;
    const fleet: FleetExecutor = createFleetExecutor({
      ...controllerOptions,
      redisUrl,
      prefix,
      redis,
      bus,
      keyPath: keyPath ?? keys.controllerKey.privatePath,
      enrollmentLedgerPath:
        controllerOptions.enrollmentLedgerPath ?? join(stateDir, ENROLLMENT_LEDGER_FILE),
      // The bot is the long-running registrar: it asks every agent to announce itself at start.
      census: "always",
      signers,
      logger,
      metrics,
    });
    stops.push(() => fleet.close());
    if (agent !== undefined) {
      // The in-process agent's key is one this process holds, so it is the one host accepted
      // without an operator; every other host waits in `nodes pending` (or enrolls by policy).
      const hostKeyPath = config.agent?.hostKeyPath ?? keys.hostKey.privatePath;
      const hostKey = loadPrivateKey(hostKeyPath);
      // Never over an operator's decision: a revoked or rejected key stays so across restarts.
      const local = await fleet.enrollment.acceptLocal(agent.hostname, hostKey.public.line);
      if (local.outcome === "rejected")
        logger.warn("local agent's key is revoked or rejected: it is not accepted again", {
          hostname: agent.hostname,
          fingerprint: local.fingerprint,
          detail: local.detail,
          hint:
            config.agent?.hostKeyPath === undefined
              ? `to give the local agent a new key, stop commodore, delete ${hostKeyPath} and ${hostKeyPath}.pub and start again (a new key is generated and accepted); or \`nodes accept ${agent.hostname}\` to trust this key again`
              : `to give the local agent a new key, stop commodore, replace ${hostKeyPath} (ssh-keygen -t ed25519 -f ${hostKeyPath}) and start again; or \`nodes accept ${agent.hostname}\` to trust this key again`,
        });
      else if (local.outcome === "key-differs")
        logger.warn("local agent's key is not accepted: another key is accepted for its hostname", {
          hostname: agent.hostname,
          fingerprint: local.fingerprint,
          detail: local.detail,
          hint: `check \`nodes pending\`, then \`nodes revoke ${agent.hostname}\` and \`nodes accept ${agent.hostname}\``,
        });
    }

    const auditFile = config.bot.audit.file ?? join(stateDir, "audit.log");
    const withAudit: Config = {
      ...config,
      bot: { ...config.bot, audit: { ...config.bot.audit, file: auditFile } },
    };
    const provisioning = createRuntimeProvisioning({
      config,
      redis,
      bus,
      fleet,
      sealer,
      logger,
      metrics,
      env,
    });
    const bundle: BotBundle = createBot({
      config: withAudit,
      redis,
      bus,
      logger,
      metrics,
      sealer,
      fleet,
      ...(provisioning ? { provision: provisioning.port } : {}),
    });
    stops.push(() => bundle.close());
    // Throws for an `http.tokenEnv` that is not set, before any transport starts.
    const resolveToken = tokenPrincipals(bundle.principals, env);

    const wiring = { config, bundle, logger, metrics, env, redis };
    const transports: Transport[] = [];
    let http: { transport: HttpTransport; listen: ListenAddress } | undefined;
    const bound = () =>
      http?.transport.port === undefined
        ? undefined
        : { host: http.listen.host, port: http.transport.port };
    let jobLink: JobLink | undefined;
    if (config.http.enabled) {
      const listen = parseListen(config.http.listen);
      const status = config.http.status.enabled
        ? createStatus({
            options: {
              ...config.http.status,
              ...(config.http.publicUrl === undefined ? {} : { publicUrl: config.http.publicUrl }),
            },
            principals: bundle.principals,
            resolveToken,
            policy: bundle.policy,
            registry: bundle.bot.registry,
            jobs: bundle.jobs,
            redis,
            bus,
            prefix: `${prefix}:`,
            sealer,
            nodes: () => fleet.enrollment.registered(),
            anonymousFrom: config.http.anonymousFrom,
            rateLimit: config.http.rateLimit,
            logger,
            metrics,
            stateDir,
            env,
            baseUrl: () => publicBaseUrl(undefined, bound()) ?? "",
          })
        : undefined;
      if (status) stops.push(() => status.close());
      jobLink = status?.jobLink;
      const transport = new HttpTransport(
        {
          bot: bundle.bot,
          resolveToken,
          logger,
          metrics,
          bodyLimitBytes: config.http.bodyLimitBytes,
          rateLimit: config.http.rateLimit,
          redis,
          redisPrefix: prefix,
          hosts: {
            listenHost: listen.host,
            publicUrl: config.http.publicUrl,
            allowedHosts: config.http.allowedHosts,
          },
          anonymousFrom: config.http.anonymousFrom,
          health: [
            async () => ({ name: "redis", ok: redis.status === "ready", status: redis.status }),
          ],
          routes: [
            ...transportRoutes(wiring, options.voice),
            ...(status === undefined ? [] : [status.routes]),
            ...(provisioning === undefined ? [] : [provisioning.routes]),
          ],
        },
        listen,
      );
      http = { transport, listen };
      transports.push(transport);
    }
    let irc: LeaderTransport<IrcTransport> | undefined;
    const ircOptions = config.irc;
    if (ircOptions !== undefined) {
      irc = leaderTransport({
        redis,
        prefix,
        name: "irc",
        lease: config.redis.lease,
        logger,
        metrics,
        // Terms begin after HTTP started (it comes first in the list), so its port is known.
        create: () =>
          ircTransport(
            wiring,
            ircOptions,
            jobLink ?? jobLinks(publicBaseUrl(config.http.publicUrl, bound())),
          ),
      });
      transports.push(irc);
    }
    const running = await startTransports(transports, logger);
    stops.push(() => running.stop());
    const reached = bound();
    const httpUrl =
      reached === undefined
        ? undefined
        : `http://${reached.host.includes(":") ? `[${reached.host}]` : reached.host}:${reached.port}`;
    if (irc !== undefined)
      logger.info("IRC lease contended", {
        leader: irc.leader,
        connected: irc.transport?.connected ?? false,
      });
    if (provisioning) {
      provisioning.attachIrc(() => irc?.transport);
      stops.push(() => provisioning.stop());
      await provisioning.start();
    }
    return {
      httpUrl,
      redisUrl,
      embeddedRedis,
      agent,
      jobLink,
      get irc() {
        return irc?.transport;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
