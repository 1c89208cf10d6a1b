/**
 * Wires the optional transports to the bot: the IRC transport (when `irc` is configured) and
 * the voice webhook mounted on the HTTP app at `/voice/alexa` (when `voice` is configured).
 * Identity comes from the bot's {@link Identity}; voice risk from {@link Bot.assessRisk}, the
 * same classification the bot's authorize step applies.
 */
import type { Config } from "../config/schema.ts";
import type { Logger } from "../lib/log.ts";
import type { MetricsRegistry } from "../lib/metrics.ts";
import type { RedisClient } from "../lib/redis/client.ts";
import type { HttpApp } from "../transports/http/context.ts";
import type { IrcUser } from "../transports/irc/identity.ts";
import { IrcTransport } from "../transports/irc/irc-transport.ts";
import type { IrcOptions } from "../transports/irc/options.ts";
import { redisReplayCache } from "../transports/voice/replay.ts";
import { createAlexaRoutes, type AlexaRoutesDeps } from "../transports/voice/routes.ts";
import type { BotBundle } from "../bot/create.ts";
import type { Principal } from "../bot/contract.ts";
import { jobReadCheck } from "../bot/commands/job-access.ts";
import type { Identity } from "../bot/identity/identity.ts";
import type { JobLink } from "./job-links.ts";

/** Where the voice webhook is mounted on the HTTP app. */
export const VOICE_PATH = "/voice/alexa";

/** What the transports are wired to. */
export interface TransportWiring {
  readonly config: Config;
  readonly bundle: Pick<BotBundle, "bot" | "identity" | "policy">;
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

/** An IRC user as the transport sees it, resolved through the bot's identity model. */
export function ircPrincipal(identity: Identity, user: IrcUser): Principal | undefined {
  return identity.fromIrc({
    nick: user.nick,
    user: user.ident,
    host: user.hostname,
    ...(user.account === undefined ? {} : { account: user.account }),
  });
}

/** HTTP routes of the configured transports (the voice webhook), for `HttpDeps.routes`. */
export function transportRoutes(
  w: TransportWiring,
  voice: VoiceInjections = {},
): Array<(app: HttpApp) => void> {
  const options = w.config.voice;
  if (options === undefined) return [];
  const { bot, identity } = w.bundle;
  const webhook = createAlexaRoutes({
    options,
    handler: bot,
    resolvePrincipal: ({ applicationId, userId }) => identity.fromVoice(applicationId, userId),
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
 * in `commodore start` a {@link ../runtime/leader-transport.ts} lease term does).
 */
export function ircTransport(
  w: TransportWiring,
  options: IrcOptions,
  jobUrl: JobLink,
): IrcTransport {
  const { bot, identity, policy } = w.bundle;
  return new IrcTransport({
    options,
    handler: bot,
    resolvePrincipal: (user) => ircPrincipal(identity, user),
    jobUrl,
    jobAccess: jobReadCheck(policy, bot.registry),
    logger: w.logger,
    metrics: w.metrics,
    env: w.env,
  });
}
