/**
 * `commodore agent`: subscribes to the request channel, admits only signed, fresh, unseen
 * requests from allowed controllers, answers `noop` or `start`, runs the provider and answers
 * `complete`, every reply signed with the host key. When the controller reads protocol 2 and
 * the provider finishes within `startDelayMs`, `complete` alone answers (one signature instead
 * of two). A signed `cancel` from the request's own sender stops the provider (its process
 * group is killed) and the `complete` says `cancelled: true`. Announces its signed registration
 * with a heartbeat, and when a signed census asks (agent/registration.ts).
 */
import { randomUUID } from "node:crypto";
import { errorMessage } from "../../../lib/errors.ts";
import { silentLogger, type Logger } from "../../../lib/log.ts";
import { MetricsRegistry } from "../../../lib/metrics.ts";
import { closeRedis } from "../../../lib/redis.ts";
import { createBus, type PubSubBus } from "../../../lib/redis/bus.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import { connectUrl } from "../../../lib/redis/url.ts";
import { agentOptionsSchema, type AgentConfigInput } from "../options.ts";
import {
  loadAllowedSigners,
  loadAllowedSignersAsync,
  type AllowedSigners,
} from "../protocol/allowed-signers.ts";
import { fleetNames } from "../protocol/channels.ts";
import { sealEnvelope } from "../protocol/envelope.ts";
import { loadPrivateKey } from "../protocol/keys.ts";
import { FilterTooCostlyError } from "../protocol/match-budget.ts";
import {
  PROTOCOL_VERSION,
  SINGLE_REPLY_PROTOCOL,
  LEAVING_TTL_MS,
  type CancelMessage,
  type ReplyMessage,
  type RequestMessage,
} from "../protocol/messages.ts";
import { rejectionRecorder } from "../protocol/rejections.ts";
import { ReplayCache } from "../protocol/replay-cache.ts";
import { actionProviders } from "../providers/actions.ts";
import { collectFacts, type Facts } from "../providers/facts.ts";
import { providerRegistry } from "../providers/index.ts";
import type { ProviderOutput, ProviderRegistry } from "../providers/provider.ts";
import { COMMODORE_VERSION } from "../../../lib/version.ts";
import { admitRequest } from "./admission.ts";
import { authorize } from "./authorization.ts";
import { matchesNode } from "./matcher.ts";
import { readHostCertificate } from "./host-certificate.ts";
import { announce } from "./registration.ts";
import { EXIT, ProviderRunner } from "./runner.ts";
import { sshAgentSecurity, type AgentSecurity } from "./security.ts";

/** An agent announces itself for at most one census a second, however many arrive. */
export const CENSUS_MIN_INTERVAL_MS = 1_000;

/**
 * The reply protocol for `req`: 2 (a fast provider answered by `complete` alone) when the
 * controller lists it in `reply_protocols`, else 1 (`start` then `complete`).
 */
function replyProtocolFor(req: RequestMessage): ReplyMessage["protocol"] {
  return req.reply_protocols?.includes(SINGLE_REPLY_PROTOCOL) === true
    ? SINGLE_REPLY_PROTOCOL
    : PROTOCOL_VERSION;
}

/** Everything `createAgent` accepts: validated options plus runtime collaborators. */
export interface AgentOptions extends AgentConfigInput {
  /** Existing connection for publishing (not closed by the agent). */
  readonly redis?: RedisClient;
  /** Existing pub/sub bus, possibly shared (not closed by the agent); default: one over `redis`. */
  readonly bus?: PubSubBus;
  readonly logger?: Logger;
  readonly metrics?: MetricsRegistry;
  /** Base providers (default: the built-ins); the configured action providers are added. */
  readonly providers?: ProviderRegistry;
  /** Replaces key files (benchmarks, embedded mode); default reads hostKeyPath/allowedSignersPath. */
  readonly security?: AgentSecurity;
  readonly now?: () => number;
}

/** A running (or runnable) agent. */
export interface Agent {
  readonly hostname: string;
  readonly fingerprint: string;
  /** Current facts (after `start`). */
  facts(): Facts;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Re-reads the allowed_signers file and the host certificate (e.g. on SIGHUP); keeps the old
   * ones if a new one is invalid. The file is parsed a slice at a time, so requests and signals
   * are served on the old list meanwhile; a newer reload, or `stop`, abandons this one.
   */
  reloadAllowedSigners(): Promise<void>;
}

/** Creates an agent; throws typed errors for unreadable keys or invalid options. */
export function createAgent(options: AgentOptions): Agent {
  const config = agentOptionsSchema.parse(options);
  const log = (options.logger ?? silentLogger).child({ component: "fleet-agent" });
  const metrics = options.metrics ?? new MetricsRegistry();
  const now = options.now ?? Date.now;
  const names = fleetNames(config.prefix);
  let signers: AllowedSigners | undefined = options.security
    ? undefined
    : loadAllowedSigners(config.allowedSignersPath);
  const security =
    options.security ??
    sshAgentSecurity(loadPrivateKey(config.hostKeyPath), () => signers as AllowedSigners);
  let certificate = options.security
    ? undefined
    : readHostCertificate(config.hostCertPath, config.hostKeyPath);
  const providers = new Map(options.providers ?? providerRegistry());
  for (const p of actionProviders(config.actions)) providers.set(p.name, p);
  const runner = new ProviderRunner(providers, {
    concurrency: config.concurrency,
    queueLimit: config.queueLimit,
    maxTimeoutMs: config.maxExecTimeoutMs,
  });
  const replay = new ReplayCache();
  const rejections = rejectionRecorder(metrics, log, "agent");
  const handled = metrics.counter(
    "commodore_fleet_agent_requests_total",
    "Admitted fleet requests by outcome",
  );
  const execSeconds = metrics.histogram(
    "commodore_fleet_agent_exec_seconds",
    "Provider execution time",
  );
  const cancels = metrics.counter(
    "commodore_fleet_agent_cancels_total",
    "Signed cancels admitted, by outcome (stopped: a provider of this host was running)",
  );
  /** Requests being served, by id: who sent each and how to stop it. */
  const inFlight = new Map<string, { sender: string; cancel: AbortController }>();
  const owned: RedisClient[] = [];
  let pub: RedisClient | undefined;
  let bus: PubSubBus | undefined;
  let facts: Facts = { ...config.facts };
  let hostname = config.hostname ?? "";
  let heartbeat: NodeJS.Timeout | undefined;
  let offRestored: (() => void) | undefined;
  let stopped = false;
  /** Aborts the reload in progress, if any. */
  let reloading: AbortController | undefined;

  const publish = (channel: string, reply: ReplyMessage): void => {
    bus?.publish(channel, sealEnvelope(reply, security.replySigner)).catch((err: unknown) => {
      log.warn("reply publish failed", { requestId: reply.in_reply_to, error: errorMessage(err) });
    });
  };

  /** Whether the request selects this node; terms over the per-request budget select nothing. */
  const selects = (req: RequestMessage): boolean => {
    try {
      return matchesNode(req.match, facts);
    } catch (err) {
      if (!(err instanceof FilterTooCostlyError)) throw err;
      log.warn("request filter too costly; answering noop", {
        requestId: req.id,
        term: err.term,
        budget: err.budget,
      });
      return false;
    }
  };

  const serve = async (req: RequestMessage): Promise<void> => {
    const protocol = replyProtocolFor(req);
    const base = {
      protocol,
      type: "reply",
      in_reply_to: req.id,
      hostname,
    } as const;
    if (!selects(req)) {
      handled.inc({ outcome: "noop" });
      publish(req.reply_to, { ...base, status: "noop", sent_at: now() });
      return;
    }
    const uuid = randomUUID();
    const access = authorize(config.authorization, {
      sender: req.sender,
      onBehalfOf: req.on_behalf_of,
      provider: req.command.provider,
      args: req.command.args,
    });
    let startSent = false;
    const sendStart = () => {
      startSent = true;
      publish(req.reply_to, { ...base, uuid, status: "start", sent_at: now() });
    };
    if (!access.ok && runner.has(req.command.provider)) {
      // Refusals keep their shape in every version: a signed start, then the exit-77 complete.
      sendStart();
      handled.inc({ outcome: "refused" });
      log.warn("request refused", {
        requestId: req.id,
        sender: req.sender,
        onBehalfOf: req.on_behalf_of,
        provider: req.command.provider,
        reason: access.reason,
      });
      const output = { exit: EXIT.refused, short: access.reason, refused: true };
      publish(req.reply_to, { ...base, uuid, status: "complete", sent_at: now(), output });
      return;
    }
    handled.inc({ outcome: "start" });
    // Protocol 1 (or no delay): acknowledge at once. Protocol 2: only if still running later.
    const delayMs = protocol === SINGLE_REPLY_PROTOCOL ? config.startDelayMs : 0;
    const startTimer = delayMs > 0 ? setTimeout(sendStart, delayMs) : undefined;
    if (startTimer === undefined) sendStart();
    const started = performance.now();
    const cancel = new AbortController();
    inFlight.set(req.id, { sender: req.sender, cancel });
    let output: ProviderOutput;
    try {
      output = await runner.run({
        provider: req.command.provider,
        args: req.command.args,
        timeoutMs: req.command.timeout_ms,
        context: {
          hostname,
          principal: req.sender,
          onBehalfOf: req.on_behalf_of,
          requestId: req.id,
          facts,
        },
        cancel: cancel.signal,
      });
    } finally {
      inFlight.delete(req.id);
    }
    clearTimeout(startTimer);
    // A cancelled provider's complete must not race ahead of a start the controller expects.
    if (output["cancelled"] === true && startTimer !== undefined && !startSent) sendStart();
    execSeconds.observe((performance.now() - started) / 1000, {
      provider: runner.has(req.command.provider) ? req.command.provider : "unknown",
    });
    const served = {
      requestId: req.id,
      sender: req.sender,
      provider: req.command.provider,
      exit: output.exit,
    };
    if (runner.quiet(req.command.provider)) log.debug("request served", served);
    else log.info("request served", served);
    publish(req.reply_to, { ...base, uuid, status: "complete", sent_at: now(), output });
  };

  /** Stops the request a verified cancel names, if this host runs it for the same sender. */
  const stop = (msg: CancelMessage): void => {
    const running = inFlight.get(msg.cancels);
    if (running === undefined) return cancels.inc({ outcome: "not_running" });
    if (running.sender !== msg.sender) {
      return rejections.record(
        {
          reason: "foreign_cancel",
          detail: `cancel of ${msg.cancels} by ${msg.sender}, which did not send that request`,
        },
        { hostname },
      );
    }
    cancels.inc({ outcome: "stopped" });
    log.info("request cancelled", {
      requestId: msg.cancels,
      sender: msg.sender,
      onBehalfOf: msg.on_behalf_of,
    });
    running.cancel.abort(msg.on_behalf_of ?? msg.sender);
  };

  /** A signed census: announce now, at most once per {@link CENSUS_MIN_INTERVAL_MS}. */
  let censusAnsweredAt = Number.NEGATIVE_INFINITY;
  const answerCensus = (): void => {
    const t = now();
    if (t - censusAnsweredAt < CENSUS_MIN_INTERVAL_MS) return;
    censusAnsweredAt = t;
    reregister();
  };

  const onMessage = (raw: string, channel: string): void => {
    if (channel !== names.requests || stopped) return;
    const admission = admitRequest(raw, security.requestVerifier, replay, config, now());
    if (!admission.ok) return rejections.record(admission.rejection, { hostname });
    if (admission.message.type === "cancel") return stop(admission.message);
    if (admission.message.type === "census") return answerCensus();
    const req = admission.message;
    if (req.reply_to !== names.reply(req.id)) {
      return rejections.record(
        { reason: "malformed_payload", detail: `reply_to must be ${names.reply(req.id)}` },
        { hostname },
      );
    }
    serve(req).catch((err: unknown) =>
      log.error("serving request failed", { requestId: req.id, error: err }),
    );
  };

  /** Announces the registration, valid for `ttlMs`. */
  const say = async (ttlMs: number): Promise<void> => {
    if (!bus) return;
    await announce(
      bus,
      names,
      security.registrationSigner,
      {
        hostname,
        facts,
        publicKey: security.publicKey,
        version: COMMODORE_VERSION,
        ttlMs,
        certificate,
      },
      now(),
    );
  };
  const beat = async (): Promise<void> => {
    facts = await collectFacts(hostname, config.facts);
    await say(config.registrationTtlMs);
  };

  // After a reconnect (or a Sentinel failover) controllers may have missed a heartbeat: announce.
  const reregister = (): void => {
    if (stopped) return;
    beat().catch((err: unknown) =>
      log.warn("re-registration failed", { error: errorMessage(err) }),
    );
  };

  return {
    get hostname() {
      return hostname;
    },
    fingerprint: security.fingerprint,
    facts: () => facts,
    async start() {
      facts = await collectFacts(config.hostname, config.facts);
      hostname = facts["hostname"] ?? hostname;
      const name = `commodore-agent-${hostname}`;
      pub = options.redis ?? connectUrl({ url: config.redisUrl, name, logger: log });
      if (!options.redis) owned.push(pub);
      bus = options.bus ?? createBus(pub);
      await bus.subscribe(names.requests, onMessage);
      await beat();
      pub.on("ready", reregister);
      // Back on the request channel after a reconnect: announce, in case a census went by.
      offRestored = bus.onRestored(reregister);
      heartbeat = setInterval(() => {
        beat().catch((err: unknown) => log.warn("heartbeat failed", { error: errorMessage(err) }));
      }, config.heartbeatMs);
      heartbeat.unref();
      log.info("agent started", {
        hostname,
        fingerprint: security.fingerprint,
        channel: names.requests,
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      reloading?.abort();
      clearInterval(heartbeat);
      runner.stop();
      pub?.off("ready", reregister);
      offRestored?.();
      await bus?.unsubscribe(names.requests, onMessage).catch(() => undefined);
      // A clean stop says so: a registration that lapses at once (the host is `absent` now).
      await say(LEAVING_TTL_MS).catch(() => undefined);
      if (bus && !options.bus) await bus.close();
      await Promise.all(owned.map((c) => closeRedis(c)));
    },
    async reloadAllowedSigners() {
      reloading?.abort();
      const reload = new AbortController();
      reloading = reload;
      try {
        const next = await loadAllowedSignersAsync(config.allowedSignersPath, reload.signal);
        signers = next;
        log.info("allowed_signers reloaded", { entries: next.entries.length });
      } catch (err) {
        if (reload.signal.aborted) {
          log.debug("allowed_signers reload abandoned (stopped, or reloaded again)");
          return;
        }
        log.error("allowed_signers reload failed; keeping the previous list", {
          error: errorMessage(err),
        });
      } finally {
        if (reloading === reload) reloading = undefined;
      }
      if (options.security) return;
      try {
        certificate = readHostCertificate(config.hostCertPath, config.hostKeyPath);
        log.info("host certificate reloaded", { present: certificate !== undefined });
      } catch (err) {
        log.error("host certificate reload failed; keeping the previous one", {
          error: errorMessage(err),
        });
      }
    },
  };
}
