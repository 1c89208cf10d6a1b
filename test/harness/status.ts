/**
 * The real HTTP transport with the status page mounted, over a test bot on real Redis, on a
 * free loopback port.
 */
import type { Redis } from "ioredis";
import type { FleetPort } from "../../bot/fleet-port.ts";
import { silentLogger } from "../../lib/log.ts";
import { createBus } from "../../lib/redis/bus.ts";
import { createHttpApp } from "../../transports/http/app.ts";
import { startHttpServer, type HttpServer } from "../../transports/http/server.ts";
import { createStatus, type Status } from "../../transports/http/status/index.ts";
import { statusOptionsSchema } from "../../transports/http/status/options.ts";
import type { StreamTiming } from "../../transports/http/status/stream.ts";
import { tokenPrincipals } from "../../transports/http/tokens.ts";
import { testBot, type TestBot } from "./bot.ts";
import { tempDir } from "./tmp.ts";

/** A running bot + HTTP + status page. */
export interface TestStatus {
  readonly bot: TestBot;
  readonly status: Status;
  readonly server: HttpServer;
  readonly base: string;
  close(): Promise<void>;
}

/** Starts it; `raw` is a configuration object validated like a file. */
export async function startTestStatus(
  raw: Record<string, unknown>,
  redis: Redis,
  fleet: FleetPort | undefined,
  extra: {
    anonymousFrom?: string[];
    timing?: StreamTiming;
    staleAfterSeconds?: number;
    now?: () => number;
  } = {},
): Promise<TestStatus> {
  const bot = testBot(raw, redis, fleet);
  const resolveToken = tokenPrincipals(bot.principals);
  const bus = createBus(redis);
  let base = "";
  const status = createStatus({
    options: statusOptionsSchema.parse({ staleAfterSeconds: extra.staleAfterSeconds ?? 25 }),
    principals: bot.principals,
    resolveToken,
    policy: bot.policy,
    registry: bot.bot.registry,
    jobs: bot.jobs,
    redis,
    bus,
    prefix: "commodore:",
    sealer: bot.sealer,
    nodes: fleet === undefined ? undefined : () => fleet.nodes(),
    anonymousFrom: extra.anonymousFrom ?? [],
    rateLimit: { perMinute: 6_000, burst: 1_000 },
    logger: silentLogger,
    metrics: bot.metrics,
    stateDir: tempDir("commodore-status-"),
    env: {},
    baseUrl: () => base,
    ...(extra.timing === undefined ? {} : { timing: extra.timing }),
    ...(extra.now === undefined ? {} : { now: extra.now }),
  });
  const app = createHttpApp({
    bot: bot.bot,
    resolveToken,
    logger: silentLogger,
    metrics: bot.metrics,
    bodyLimitBytes: 65_536,
    rateLimit: { perMinute: 6_000, burst: 1_000 },
    redis,
    redisPrefix: "commodore",
    hosts: { listenHost: "127.0.0.1", allowedHosts: [] },
    anonymousFrom: extra.anonymousFrom ?? [],
    health: [],
    routes: [status.routes],
  });
  const server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${server.port}`;
  return {
    bot,
    status,
    server,
    base,
    async close() {
      await server.close();
      await status.close();
      await bus.close();
      await bot.close();
    },
  };
}
