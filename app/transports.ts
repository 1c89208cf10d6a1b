/**
 * Wires the transports to the bot and runs them as one list.
 *
 * Each transport resolves its own callers from the bot's principal directory: IRC accounts and
 * masks (transports/irc/principals.ts), HTTP bearer tokens (transports/http/tokens.ts, built in
 * services.ts and shared with the status page), voice application and user ids
 * (transports/voice/principals.ts). Voice risk comes from {@link Bot.assessRisk}, the same
 * classification the bot's authorize step applies.
 *
 * The voice webhook is not a {@link Transport} of its own but routes of the HTTP app: it has no
 * listener or connection of its own to start or stop (the assistant calls the HTTP server), and
 * it must be mounted while the HTTP app is built, after the body limit and before bearer
 * authentication. It runs exactly while the HTTP transport does.
 */
import type { Config } from "../config/schema.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { MetricsRegistry } from "../lib/metrics.ts";
import type { RedisClient } from "../lib/redis/client.ts";
import type { HttpApp } from "../transports/http/context.ts";
import { IrcTransport } from "../transports/irc/irc-transport.ts";
import type { IrcOptions } from "../transports/irc/options.ts";
import { ircPrincipals } from "../transports/irc/principals.ts";
import { voicePrincipals } from "../transports/voice/principals.ts";
import { redisReplayCache } from "../transports/voice/replay.ts";
import { createAlexaRoutes, type AlexaRoutesDeps } from "../transports/voice/routes.ts";
import type { BotBundle } from "../bot/create.ts";
import { jobReadCheck } from "../bot/commands/job-access.ts";
import type { Transport } from "../bot/transport.ts";
import type { JobLink } from "./job-links.ts";

/** Where the voice webhook is mounted on the HTTP app. */
export const VOICE_PATH = "/voice/alexa";

/** What the transports are wired to. */
export interface TransportWiring {
  readonly config: Config;
  readonly bundle: Pick<BotBundle, "bot" | "principals" | "policy">;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly env: NodeJS.ProcessEnv;
  /** The bot's Redis connection (the voice webhook's replay cache, shared by replicas). */
  readonly redis: RedisClient;
}

/** Test injections for the voice webhook (trust store, certificate download, clock). */
export type VoiceInjections = Partial<
  Pick<AlexaRoutesDeps, "trustedRootsPem" | "fetchCertChain" | "now">
>;

/** HTTP routes of the configured transports (the voice webhook), for `HttpDeps.routes`. */
export function transportRoutes(
  w: TransportWiring,
  voice: VoiceInjections = {},
): Array<(app: HttpApp) => void> {
  const options = w.config.voice;
  if (options === undefined) return [];
  const { bot, principals } = w.bundle;
  const webhook = createAlexaRoutes({
    options,
    handler: bot,
    resolvePrincipal: voicePrincipals(principals),
    commandRisk: (text) => bot.assessRisk(text),
    log: w.logger,
    metrics: w.metrics,
    replay: redisReplayCache(w.redis, w.config.redis.prefix),
    ...voice,
  });
  return [(app) => app.route(VOICE_PATH, webhook)];
}

/**
 * Creates an IRC transport from the configured `irc` section (the caller starts and stops it;
 * in `commodore start` a lease term of app/leader-transport.ts does).
 */
export function ircTransport(
  w: TransportWiring,
  options: IrcOptions,
  jobUrl: JobLink,
): IrcTransport {
  const { bot, principals, policy } = w.bundle;
  return new IrcTransport({
    options,
    handler: bot,
    resolvePrincipal: ircPrincipals(principals),
    jobUrl,
    jobAccess: jobReadCheck(policy, bot.registry),
    logger: w.logger,
    metrics: w.metrics,
    env: w.env,
  });
}

/** Transports started by {@link startTransports}. */
export interface RunningTransports {
  /** Stops them in reverse order; a failing stop is logged and the others still stop. */
  stop(): Promise<void>;
}

/**
 * Starts `transports` one after another, in list order. When one fails to start, it and those
 * started before it are stopped (in reverse; `stop` is idempotent) and the error is rethrown.
 */
export async function startTransports(
  transports: readonly Transport[],
  logger: Logger,
): Promise<RunningTransports> {
  const started: Transport[] = [];
  const stop = async () => {
    for (const t of started.splice(0).reverse()) {
      try {
        await t.stop();
      } catch (err) {
        logger.warn("transport failed to stop", { transport: t.name, error: errorMessage(err) });
      }
    }
  };
  try {
    for (const t of transports) {
      started.push(t);
      await t.start();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}
