/**
 * Helpers for the front-door tests: the real HTTP app (optionally with the status page) on a
 * free loopback port over a test bot and real Redis, with every front-door setting exposed, and
 * a raw HTTP client that can send any `Host`, `Origin` and `Content-Type`.
 */
import { request } from "node:http";
import type { FleetPort } from "../../bot/fleet-port.ts";
import { createLogger, silentLogger } from "../../lib/log.ts";
import { createBus, type PubSubBus } from "../../lib/redis/bus.ts";
import type { RedisClient } from "../../lib/redis/client.ts";
import { createHttpApp } from "../../transports/http/app.ts";
import type { HttpApp, HttpRateLimits } from "../../transports/http/context.ts";
import type { HostCheckOptions } from "../../transports/http/host-check.ts";
import { startHttpServer, type HttpServer } from "../../transports/http/server.ts";
import { createStatus, type Status } from "../../transports/http/status/index.ts";
import { statusOptionsSchema } from "../../transports/http/status/options.ts";
import { tokenPrincipals } from "../../transports/http/tokens.ts";
import { parseVoiceOptions } from "../../transports/voice/options.ts";
import type { ReplayCache } from "../../transports/voice/replay.ts";
import { createAlexaRoutes } from "../../transports/voice/routes.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { testBot, type TestBot } from "../harness/bot.ts";
import type { TestPki } from "../harness/test-ca.ts";
import { tempDir } from "../harness/tmp.ts";
import { ALICE, ALICE_USER, commandRisk, FakeBot, VOICE_CONFIG } from "../voice/fixtures.ts";

/** A running app (one "replica"). */
export interface TestApp {
  readonly bot: TestBot;
  readonly server: HttpServer;
  readonly port: number;
  /** Every log line the app wrote (JSON). */
  readonly logs: string[];
  close(): Promise<void>;
}

/** What {@link startApp} builds. */
export interface AppOptions {
  readonly redis: RedisClient;
  /** Bot configuration, validated like a file. */
  readonly config: Record<string, unknown>;
  readonly fleet?: FleetPort;
  readonly rateLimit?: HttpRateLimits;
  readonly hosts?: Partial<HostCheckOptions>;
  readonly anonymousFrom?: string[];
  /** Mount the status page under /ui. */
  readonly status?: boolean;
  /** Extra routes, mounted like the voice webhook and the provisioning callback. */
  readonly routes?: ReadonlyArray<(app: HttpApp) => void>;
}

/** Starts the app on 127.0.0.1 with a free port. */
export async function startApp(o: AppOptions): Promise<TestApp> {
  const bot = testBot(o.config, o.redis, o.fleet);
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", sink: (line) => logs.push(line) });
  const rateLimit = o.rateLimit ?? { perMinute: 6_000, burst: 1_000 };
  const anonymousFrom = o.anonymousFrom ?? [];
  const fleet = o.fleet;
  const resolveToken = tokenPrincipals(bot.principals);
  let status: Status | undefined;
  let bus: PubSubBus | undefined;
  let base = "";
  if (o.status === true) {
    bus = createBus(o.redis);
    status = createStatus({
      options: statusOptionsSchema.parse({}),
      principals: bot.principals,
      resolveToken,
      policy: bot.policy,
      registry: bot.bot.registry,
      jobs: bot.jobs,
      redis: o.redis,
      bus,
      prefix: "commodore:",
      sealer: bot.sealer,
      nodes: fleet === undefined ? undefined : () => fleet.nodes(),
      anonymousFrom,
      rateLimit,
      logger,
      metrics: bot.metrics,
      stateDir: tempDir("commodore-front-door-"),
      env: {},
      baseUrl: () => base,
    });
  }
  const app = createHttpApp({
    bot: bot.bot,
    resolveToken,
    logger,
    metrics: bot.metrics,
    bodyLimitBytes: 65_536,
    rateLimit,
    redis: o.redis,
    redisPrefix: "commodore",
    hosts: { listenHost: "127.0.0.1", allowedHosts: [], ...o.hosts },
    anonymousFrom,
    health: [],
    routes: [...(o.routes ?? []), ...(status === undefined ? [] : [status.routes])],
  });
  const server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${server.port}`;
  return {
    bot,
    server,
    port: server.port,
    logs,
    async close() {
      await server.close();
      await status?.close();
      await bus?.close();
      await bot.close();
    },
  };
}

/** A response as {@link send} returns it. */
export interface RawReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed body, or `{}` when it is not JSON. */
  readonly json: Record<string, unknown>;
}

/** Sends one request with exactly the given headers (the `Host` too) to 127.0.0.1:`port`. */
export async function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  from?: string,
): Promise<RawReply> {
  return await new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        headers,
        ...(from === undefined ? {} : { localAddress: from }),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = {};
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The `code` of an error body. */
export function errorCode(reply: RawReply): unknown {
  return (reply.json["error"] as Record<string, unknown> | undefined)?.["code"];
}

/** The voice webhook as an app route, with its own bot, metrics and (optional) replay cache. */
export interface VoiceRoute {
  readonly mount: (app: HttpApp) => void;
  readonly bot: FakeBot;
  readonly metrics: MetricsRegistry;
}

/** The real webhook at /voice/alexa, verifying against `pki` at the fixed time `now`. */
export function voiceRoute(pki: TestPki, now: number, replay?: ReplayCache): VoiceRoute {
  const bot = new FakeBot();
  const metrics = new MetricsRegistry();
  const webhook = createAlexaRoutes({
    options: parseVoiceOptions(VOICE_CONFIG),
    handler: bot,
    resolvePrincipal: ({ userId }) => (userId === ALICE_USER ? ALICE : undefined),
    commandRisk,
    log: silentLogger,
    metrics,
    trustedRootsPem: pki.trustedRootsPem,
    fetchCertChain: async () => pki.chains.good,
    now: () => now,
    ...(replay === undefined ? {} : { replay }),
  });
  return { mount: (app) => app.route("/voice/alexa", webhook), bot, metrics };
}
