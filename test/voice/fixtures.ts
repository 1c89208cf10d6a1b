/**
 * Shared fixtures for voice tests: a CommandHandler that answers like the bot (accepted,
 * progress, a realistic FleetResult), a risk classifier, request envelopes, and the webhook
 * served on a real loopback socket with a test PKI.
 */
import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import type { ServerType } from "@hono/node-server";
import { Hono } from "hono";
import type { BotSink, CommandHandler, Invocation, Principal } from "../../bot/contract.ts";
import type { FleetResult, HostResult } from "../../executors/fleet/types.ts";
import { createLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import type { Risk } from "../../bot/commands/types.ts";
import { parseVoiceOptions } from "../../transports/voice/options.ts";
import { createAlexaRoutes } from "../../transports/voice/routes.ts";
import { freePort } from "../harness/ports.ts";
import type { TestPki } from "../harness/test-ca.ts";

/** The skill's application id the tests configure. */
export const APP_ID = "amzn1.ask.skill.test-commodore";
/** An account with the ops role. */
export const ALICE: Principal = { id: "alice", roles: ["ops"], display: "voice:alice" };
/** A second account that may only read. */
export const GUEST: Principal = { id: "voice", roles: ["viewer"], display: "voice:guest" };
/** The assistant's user id of {@link ALICE}. */
export const ALICE_USER = "amzn1.ask.account.ALICE";
/** The assistant's user id of {@link GUEST}. */
export const GUEST_USER = "amzn1.ask.account.GUEST";

/** A host result as the fleet executor reports it. */
export function host(hostname: string, status: HostResult["status"], load?: string): HostResult {
  return {
    hostname,
    status,
    short: status === "ok" ? `up 5 days, load average: ${load ?? "0.10"}, 0.10, 0.10` : "no reply",
    ...(status === "ok"
      ? { exit: 0, output: { exit: 0, averages: [load ?? "0.10", "0.10", "0.10"] } }
      : {}),
  };
}

/** A fleet result over `hosts` for `provider` with `where`. */
export function fleetResult(
  provider: string,
  where: Record<string, string>,
  hosts: HostResult[],
): FleetResult {
  const count = (s: HostResult["status"]) => hosts.filter((h) => h.status === s).length;
  return {
    requestId: "req-1",
    provider,
    args: [],
    where,
    hosts,
    summary: {
      expected: hosts.length,
      acked: hosts.length - count("no_ack"),
      noop: 0,
      ok: count("ok"),
      failed: count("failed"),
      noAck: count("no_ack"),
      noResult: count("no_result"),
      unexpected: 0,
      durationMs: 120,
    },
    replies: [],
  };
}

/** A handler recording invocations; `fleet <provider> where role=<r>` answers with 3 hosts. */
export class FakeBot implements CommandHandler {
  readonly invocations: Invocation[] = [];
  /** When set, `handle` waits for this promise before finishing. */
  hold: Promise<void> | undefined;
  /** Invocations that ran to the end. */
  completed = 0;

  async handle(invocation: Invocation, sink: BotSink): Promise<void> {
    this.invocations.push(invocation);
    const jobId = `j${this.invocations.length}`;
    sink({ type: "accepted", jobId, command: invocation.text });
    if (this.hold !== undefined) await this.hold;
    const m = /^fleet (\S+)(?: \S+)*? where role=(\S+)$/.exec(invocation.text);
    this.completed += 1;
    if (m === null) {
      sink({ type: "error", code: "E_UNKNOWN_COMMAND", message: "unknown command" });
      return;
    }
    const [, provider = "", role = ""] = m;
    const hosts = [
      host(`${role}01.example.com`, "ok", "0.15"),
      host(`${role}02.example.com`, "ok", "0.42"),
      host(`${role}03.example.com`, "ok", "0.07"),
    ];
    sink({
      type: "result",
      jobId,
      ok: true,
      result: { kind: "fleet", fleet: fleetResult(provider, { role }, hosts) },
    });
  }
}

/** Classifies like the bot's registry: uptime/ping read, restart change, reboot dangerous. */
export function commandRisk(text: string): Risk | undefined {
  const provider = /^fleet (\S+)/.exec(text)?.[1];
  if (provider === "uptime" || provider === "ping") return "read";
  if (provider === "restart") return "change";
  if (provider === "reboot") return "dangerous";
  return undefined;
}

/** The voice configuration used by the webhook tests. */
export const VOICE_CONFIG = {
  applicationIds: [APP_ID],
  changeRoles: ["ops"],
  answerDeadlineMs: 2_000,
  intents: {
    GetUptime: {
      command: "fleet uptime where role={role}",
      description: "tell the load of a server group",
      slots: { role: { allow: ["web", "db"] } },
    },
    RestartService: {
      command: "fleet restart {service} where role={role}",
      description: "restart a service",
      slots: { service: { allow: ["nginx"] }, role: { allow: ["web"], default: "web" } },
    },
    RebootServers: {
      command: "fleet reboot where role={role}",
      slots: { role: { allow: ["web"] } },
    },
  },
};

/** Optional parts of an envelope. */
export interface EnvelopeParts {
  type?: string;
  intent?: { name: string; confirmationStatus?: string; slots?: Record<string, unknown> };
  timestamp?: string;
  appId?: string;
  userId?: string;
  attributes?: Record<string, unknown>;
  /** Default: a fresh id, as the assistant sends with every request. */
  requestId?: string;
}

/** A request envelope; the timestamp defaults to `now`, the request id is new unless given. */
export function envelope(now: number, parts: EnvelopeParts = {}): Record<string, unknown> {
  const appId = parts.appId ?? APP_ID;
  const user = { userId: parts.userId ?? ALICE_USER };
  return {
    version: "1.0",
    session: {
      new: parts.attributes === undefined,
      sessionId: "amzn1.echo-api.session.1",
      application: { applicationId: appId },
      attributes: parts.attributes ?? {},
      user,
    },
    context: {
      System: { application: { applicationId: appId }, user, device: { deviceId: "d1" } },
    },
    request: {
      type: parts.type ?? (parts.intent ? "IntentRequest" : "LaunchRequest"),
      requestId: parts.requestId ?? `amzn1.echo-api.request.${randomUUID()}`,
      timestamp: parts.timestamp ?? new Date(now).toISOString(),
      locale: "en-GB",
      ...(parts.intent ? { intent: parts.intent, dialogState: "STARTED" } : {}),
    },
  };
}

/** A running webhook and how to talk to it. */
export interface Webhook {
  readonly url: string;
  readonly bot: FakeBot;
  readonly logs: string[];
  readonly metrics: MetricsRegistry;
  readonly fetched: string[];
  /** POSTs `body` signed with the test leaf key, unless headers override. */
  post(
    body: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** The default, valid certificate URL, and the URLs serving the broken chains. */
export const CERT_URLS = {
  good: "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
  wrongSan: "https://s3.amazonaws.com/echo.api/wrong-san.pem",
  expired: "https://s3.amazonaws.com/echo.api/expired.pem",
  untrusted: "https://s3.amazonaws.com/echo.api/untrusted.pem",
} as const;

/** Serves the webhook mounted at /voice/alexa on a free loopback port. */
export async function startWebhook(
  pki: TestPki,
  now: number,
  overrides: Record<string, unknown> = {},
): Promise<Webhook> {
  const bot = new FakeBot();
  const logs: string[] = [];
  const fetched: string[] = [];
  const metrics = new MetricsRegistry();
  const pems = new Map<string, string>(
    Object.entries(CERT_URLS).map(([k, url]) => [url, pki.chains[k as keyof typeof CERT_URLS]]),
  );
  const app = new Hono();
  app.route(
    "/voice/alexa",
    createAlexaRoutes({
      options: parseVoiceOptions({ ...VOICE_CONFIG, ...overrides }),
      handler: bot,
      resolvePrincipal: ({ userId }) =>
        userId === ALICE_USER ? ALICE : userId === GUEST_USER ? GUEST : undefined,
      commandRisk,
      log: createLogger({ level: "debug", sink: (line) => logs.push(line) }),
      metrics,
      trustedRootsPem: pki.trustedRootsPem,
      fetchCertChain: async (url) => {
        fetched.push(url);
        const pem = pems.get(url);
        if (pem === undefined) throw new Error(`no fixture for ${url}`);
        return pem;
      },
      now: () => now,
    }),
  );
  const port = await freePort();
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${port}/voice/alexa`;
  return {
    url,
    bot,
    logs,
    metrics,
    fetched,
    async post(body, headers = {}) {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          SignatureCertChainUrl: CERT_URLS.good,
          "Signature-256": pki.sign(body),
          ...headers,
        },
        body,
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
