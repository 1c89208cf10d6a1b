/**
 * Starts the real HTTP transport on a free loopback port over a test bot, and a small client.
 */
import type { RedisClient } from "../../lib/redis/client.ts";
import type { FleetPort } from "../../bot/fleet-port.ts";
import { silentLogger } from "../../lib/log.ts";
import { createHttpApp } from "../../transports/http/app.ts";
import { tokenPrincipals } from "../../transports/http/tokens.ts";
import { startHttpServer, type HttpServer } from "../../transports/http/server.ts";
import { testBot, type TestBot } from "./bot.ts";

/** A running HTTP transport for tests. */
export interface TestHttp {
  readonly bot: TestBot;
  readonly server: HttpServer;
  readonly base: string;
  /** Sends a request; `body` objects are JSON-encoded, strings are sent as they are. */
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }>;
  close(): Promise<void>;
}

/** Starts bot + HTTP; `http` overrides app settings such as rate limits. */
export async function startTestHttp(
  raw: Record<string, unknown>,
  redis: RedisClient,
  fleet: FleetPort | undefined,
  http: {
    bodyLimitBytes?: number;
    perMinute?: number;
    burst?: number;
    anonymousFrom?: string[];
  } = {},
): Promise<TestHttp> {
  const bot = testBot(raw, redis, fleet);
  const app = createHttpApp({
    bot: bot.bot,
    resolveToken: tokenPrincipals(bot.principals),
    logger: silentLogger,
    metrics: bot.metrics,
    bodyLimitBytes: http.bodyLimitBytes ?? 65_536,
    rateLimit: { perMinute: http.perMinute ?? 6_000, burst: http.burst ?? 1_000 },
    redis,
    redisPrefix: "commodore",
    hosts: { listenHost: "127.0.0.1", allowedHosts: [] },
    anonymousFrom: http.anonymousFrom ?? [],
    health: [async () => ({ name: "redis", ok: redis.status === "ready", status: redis.status })],
  });
  const server = await startHttpServer(app, { host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  return {
    bot,
    server,
    base,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.body !== undefined) {
        headers["content-type"] ??= "application/json";
        body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      }
      const res = await fetch(base + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = {};
      }
      return { status: res.status, json, text, headers: res.headers };
    },
    async close() {
      await server.close();
      await bot.close();
    },
  };
}
