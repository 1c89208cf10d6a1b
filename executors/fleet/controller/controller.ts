/**
 * The controller as an {@link Executor}: reads the registry to know who should answer,
 * subscribes to the request's reply channel, publishes the signed request and aggregates
 * verified replies until every expected host is final. `limit` and `batch` are handled by the
 * rollout layer around it (rollout.ts).
 */
import { randomUUID } from "node:crypto";
import { errorMessage } from "../../../lib/errors.ts";
import { silentLogger, type Logger } from "../../../lib/log.ts";
import { MetricsRegistry } from "../../../lib/metrics.ts";
import { closeRedis } from "../../../lib/redis.ts";
import { createBus, type PubSubBus } from "../../../lib/redis/bus.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import { connectUrl } from "../../../lib/redis/url.ts";
import { cancellationOf, type ExecutionContext, type Executor } from "../../executor.ts";
import { CANCEL_SETTLE_MS } from "../agent/runner.ts";
import { controllerOptionsSchema, type ControllerConfigInput } from "../options.ts";
import { loadAllowedSigners } from "../protocol/allowed-signers.ts";
import { fleetNames } from "../protocol/channels.ts";
import { openEnvelope, sealEnvelope } from "../protocol/envelope.ts";
import { loadPrivateKey } from "../protocol/keys.ts";
import {
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOLS,
  replySchema,
  type CancelMessage,
  type RequestMessage,
} from "../protocol/messages.ts";
import { rejectionRecorder } from "../protocol/rejections.ts";
import type {
  FactFilter,
  FleetProgress,
  FleetRequest,
  FleetResult,
  NodeInfo,
  TargetRefinement,
} from "../types.ts";
import { Collector } from "./collector.ts";
import { expectedPlan, type ExpectedPlan } from "./expected.ts";
import { Enrollment } from "./enrollment.ts";
import { enrollmentActions, type FleetEnrollment } from "./enrollment-actions.ts";
import { loadKnownHosts } from "./known-hosts.ts";
import { LastKnown } from "./last-known.ts";
import { EnrollmentLedger } from "./ledger.ts";
import { NoMatchError } from "./no-match.ts";
import { Registrar } from "./registrar.ts";
import { RegistryReader } from "./registry-reader.ts";
import { ReplyIntake } from "./reply-intake.ts";
import { SHUTDOWN_REASON, withRollout } from "./rollout.ts";
import {
  requestIdentityFor,
  sshControllerSecurity,
  type ControllerSecurity,
  type RequestIdentities,
} from "./security.ts";

/** Extra time after the execution timeout, so the agent's own timeout report can arrive. */
export const EXEC_GRACE_MS = 500;
const MAX_PRINCIPAL = 255;
/** How hosts of a request in flight end when the Redis connection carrying replies drops. */
export const CONNECTION_LOST_REASON = "redis connection lost";
/**
 * How long after a cancel the controller waits for agents to report their provider stopped:
 * the agent's own bound for a dying process group, plus delivery.
 */
export const CANCEL_GRACE_MS = CANCEL_SETTLE_MS + 500;

/** Everything `createFleetExecutor` accepts. */
export interface FleetExecutorOptions extends ControllerConfigInput {
  /** Existing connection for commands and publishing (not closed by the executor). */
  readonly redis?: RedisClient;
  /** Existing pub/sub bus (not closed by the executor); default: one over `redis`. */
  readonly bus?: PubSubBus;
  readonly logger?: Logger;
  readonly metrics?: MetricsRegistry;
  /** Replaces the key file (benchmarks, embedded mode). */
  readonly security?: ControllerSecurity;
  /**
   * Named identities a request may be signed as instead of the default key and `principal`,
   * chosen by the execution context's `signer` name (unknown or absent: the default).
   */
  readonly signers?: RequestIdentities;
  /** Wall clock for issued_at/expires_at. */
  readonly now?: () => number;
}

/** The fleet executor the bot and the CLI use. */
export interface FleetExecutor extends Executor<FleetRequest, FleetResult, FleetProgress> {
  /** Live, verified nodes from the registry whose keys are accepted. */
  nodes(): Promise<NodeInfo[]>;
  /** Pending and rejected hosts, and the operator's actions on them. */
  readonly enrollment: FleetEnrollment;
  /** Hostnames a filter (and optional conditions / identity list) would target right now. */
  expectedHosts(where: FactFilter, refine?: TargetRefinement): Promise<string[]>;
}

/** Escapes glob(3) metacharacters so a hostname matches only itself. */
function literalGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, "\\$&");
}

/**
 * The wire `match` for a target. Identity lists travel as escaped `identity` globs, which every
 * agent version honours, so batches and limits never widen on older agents.
 */
export function matchFor(
  where: FactFilter,
  refine: TargetRefinement = {},
): RequestMessage["match"] {
  const filters = refine.filters ?? [];
  const all = Object.keys(where).length === 0 && filters.length === 0 && !refine.identities;
  return {
    all,
    node_facts: { ...where },
    ...(filters.length > 0 ? { filters: filters.map((f) => ({ ...f })) } : {}),
    ...(refine.identities ? { identity: refine.identities.map(literalGlob) } : {}),
  };
}

/** Creates the fleet executor. */
export function createFleetExecutor(options: FleetExecutorOptions): FleetExecutor {
  const config = controllerOptionsSchema.parse(options);
  const log = (options.logger ?? silentLogger).child({ component: "fleet-controller" });
  const metrics = options.metrics ?? new MetricsRegistry();
  const now = options.now ?? Date.now;
  const names = fleetNames(config.prefix);
  const security =
    options.security ??
    sshControllerSecurity(
      loadPrivateKey(config.keyPath),
      config.enrollmentSignersPath === undefined
        ? undefined
        : loadAllowedSigners(config.enrollmentSignersPath),
    );
  const defaultIdentity = { signer: security.requestSigner, principal: config.principal };
  const signers = options.signers ?? {};
  const redis =
    options.redis ??
    connectUrl({ url: config.redisUrl, name: "commodore-controller", logger: log });
  const bus = options.bus ?? createBus(redis);
  const owned = options.redis ? [] : [redis];
  const rejections = rejectionRecorder(metrics, log, "controller");
  const enrollment = new Enrollment({
    redis,
    names,
    signer: security.enrollmentSigner,
    verifier: security.enrollmentVerifier,
    principal: config.principal,
    mode: config.enrollment,
    knownHosts:
      config.knownHostsPath === undefined ? undefined : loadKnownHosts(config.knownHostsPath),
    clockSkewMs: config.clockSkewMs,
    rejections,
    logger: log,
    ledger:
      config.enrollmentLedgerPath === undefined
        ? undefined
        : new EnrollmentLedger(config.enrollmentLedgerPath),
  });
  const freshness = {
    clockSkewMs: config.clockSkewMs,
    maxRegistrationTtlMs: config.maxRegistrationTtlMs,
  };
  const registrar: Registrar = new Registrar({
    redis,
    bus,
    names,
    acceptedKey: (host: string): string | undefined => registry.acceptedKey(host),
    verifier: security.registrationVerifier,
    censusSigner: security.requestSigner,
    principal: config.principal,
    freshness,
    requestTtlMs: config.requestTtlMs,
    rejections,
    logger: log,
    now,
    census: config.census,
    mayBeAccepted: (candidate) => {
      const decision = enrollment.decide(candidate, now());
      return decision.state === "accepted" || enrollment.mayTrustOnFirstUse(decision);
    },
    stored: (raw, reg, candidate) => registry.learn(raw, reg, candidate),
    left: (hostname) => registry.dropLive(hostname),
  });
  const registry: RegistryReader = new RegistryReader(
    redis,
    names,
    enrollment,
    security.registrationVerifier,
    rejections,
    freshness,
    log,
    new LastKnown(redis, names, security.registrationVerifier, rejections),
    registrar,
  );
  // Listening for announcements from the start, so the registry is current at the first read.
  registrar
    .start()
    .catch((err: unknown) => log.warn("registrar not started yet", { error: errorMessage(err) }));
  const replyVerifier = security.replyVerifier(
    (host) => registry.acceptedKey(host),
    (host) => registry.notAccepted(host),
  );
  const open = new Map<string, { id: string; collector: Collector }>();
  const requests = metrics.counter(
    "commodore_fleet_requests_total",
    "Fleet requests published, by provider",
  );
  const hostOutcomes = metrics.counter(
    "commodore_fleet_hosts_total",
    "Per-host outcomes of fleet requests, by status",
  );
  const seconds = metrics.histogram(
    "commodore_fleet_request_seconds",
    "Time from publish to close of a fleet request",
  );

  const cancelsSent = metrics.counter(
    "commodore_fleet_cancels_total",
    "Signed cancels published for requests in flight",
  );
  const unpredicted = metrics.counter(
    "commodore_fleet_unpredicted_total",
    "Accepted hosts that answered a request their last known facts did not predict (part of the answer)",
  );
  const skipped = metrics.counter(
    "commodore_fleet_starts_skipped_total",
    "Start replies dropped unverified because the host's verified complete already proved the ack",
  );
  const intake = new ReplyIntake({
    verifier: replyVerifier,
    concurrency: config.verifyConcurrency,
    now,
    onSkipped: () => skipped.inc(),
    startHoldMs: config.startHoldMs,
    clock: () => performance.now(),
  });

  const onReply = (raw: string, channel: string): void => {
    const receivedAt = performance.now();
    const entry = open.get(channel);
    if (!entry)
      return rejections.record({
        reason: "not_open",
        detail: `reply on ${channel}, which has no open request`,
      });
    const opened = openEnvelope(raw, replySchema, SUPPORTED_PROTOCOLS);
    if (!opened.ok) return rejections.record(opened.rejection, { requestId: entry.id });
    const { message: reply, payload, sig } = opened.opened;
    if (reply.in_reply_to !== entry.id) {
      return rejections.record({
        reason: "not_open",
        detail: `reply to ${reply.in_reply_to} arrived on the channel of ${entry.id}`,
      });
    }
    const fields = { requestId: entry.id, hostname: reply.hostname };
    intake.submit({
      reply,
      payload,
      sig,
      stale: () => entry.collector.stale(reply.hostname),
      refuse: (rejection) => rejections.record(rejection, fields),
      accept: (verified) => {
        const outcome = entry.collector.accept(verified, receivedAt);
        if (outcome === "unpredicted") unpredicted.inc();
        else if (outcome !== "accepted") rejections.record(outcome, fields);
      },
    });
  };
  bus.onInterrupted(() => {
    if (open.size > 0)
      log.warn("redis connection lost; failing open requests", { open: open.size });
    for (const { collector } of open.values()) collector.abort(CONNECTION_LOST_REASON);
  });

  const accepted = async (): Promise<NodeInfo[]> =>
    (await registry.read(now())).filter((n) => n.state === "accepted");

  /** Who one request waits for, from the accepted hosts (expected.ts). */
  const plan = async (where: FactFilter, refine?: TargetRefinement): Promise<ExpectedPlan> =>
    expectedPlan(matchFor(where, refine), await accepted(), (h) => registry.factsUnknown(h));

  const expected = async (where: FactFilter, refine?: TargetRefinement): Promise<string[]> =>
    (await plan(where, refine)).hosts;

  return withRollout({
    name: "fleet",
    nodes: accepted,
    enrollment: enrollmentActions(registry, enrollment, now),
    expectedHosts: expected,
    async execute(
      request: FleetRequest,
      ctx: ExecutionContext<FleetProgress>,
    ): Promise<FleetResult> {
      const target = await plan(request.where, request);
      // Nothing is sent for a filter no accepted host matches: "0/0 ok" would read as success.
      if (target.hosts.length === 0)
        throw new NoMatchError(request.where, request, target.accepted, target.factNames);
      const hosts = target.hosts;
      const id = randomUUID();
      const channel = names.reply(id);
      // Sent to agents only when the controller has an opinion; otherwise the provider's default applies.
      const askedTimeoutMs = request.execTimeoutMs ?? config.providerTimeoutsMs[request.provider];
      const execTimeoutMs = askedTimeoutMs ?? config.execTimeoutMs;
      const progress = (e: FleetProgress) => {
        try {
          ctx.progress(e);
        } catch (err) {
          log.warn("progress callback threw", { error: errorMessage(err) });
        }
      };
      const collector = new Collector({
        expected: hosts,
        absent: target.absent,
        ackTimeoutMs: request.ackTimeoutMs ?? config.ackTimeoutMs,
        execTimeoutMs: execTimeoutMs + EXEC_GRACE_MS,
        progress,
        clock: () => performance.now(),
      });
      const identity = requestIdentityFor(defaultIdentity, signers, ctx.signer);
      let published = false;
      let cancelSent = false;
      const sendCancel = async (by: string): Promise<void> => {
        const issued = now();
        const cancel: CancelMessage = {
          protocol: PROTOCOL_VERSION,
          type: "cancel",
          id: randomUUID(),
          cancels: id,
          issued_at: issued,
          expires_at: issued + config.requestTtlMs,
          sender: identity.principal,
          on_behalf_of: by.slice(0, MAX_PRINCIPAL),
        };
        await bus.publish(names.requests, sealEnvelope(cancel, identity.signer));
        cancelsSent.inc();
        log.info("fleet request cancelled", { requestId: id, jobId: ctx.jobId, by });
      };
      const onAbort = () => {
        const cancel = cancellationOf(ctx.signal);
        if (cancel === undefined) return collector.abort(SHUTDOWN_REASON);
        // Before the request went out there is nothing to stop: hosts end at once.
        collector.cancel(cancel.by, published ? CANCEL_GRACE_MS : 0);
        if (!published || cancelSent) return;
        cancelSent = true;
        sendCancel(cancel.by).catch((err: unknown) =>
          log.warn("cancel publish failed", { requestId: id, error: errorMessage(err) }),
        );
      };
      ctx.signal.addEventListener("abort", onAbort);
      open.set(channel, { id, collector });
      try {
        await bus.subscribe(channel, onReply);
        const issued = now();
        const message: RequestMessage = {
          protocol: PROTOCOL_VERSION,
          type: "request",
          id,
          reply_to: channel,
          issued_at: issued,
          expires_at: issued + config.requestTtlMs,
          sender: identity.principal,
          ...(ctx.principalId === ""
            ? {}
            : { on_behalf_of: ctx.principalId.slice(0, MAX_PRINCIPAL) }),
          match: matchFor(request.where, request),
          command: {
            provider: request.provider,
            args: [...request.args],
            ...(askedTimeoutMs === undefined ? {} : { timeout_ms: askedTimeoutMs }),
          },
          // Version-2 agents may then answer a fast provider with `complete` alone.
          reply_protocols: [...SUPPORTED_PROTOCOLS],
        };
        if (!ctx.signal.aborted) {
          await bus.publish(names.requests, sealEnvelope(message, identity.signer));
          published = true;
          requests.inc({ provider: request.provider });
          progress({ kind: "published", requestId: id, expected: hosts });
          log.info("fleet request published", {
            requestId: id,
            jobId: ctx.jobId,
            principal: ctx.principalId,
            sender: identity.principal,
            provider: request.provider,
            expected: hosts.length,
          });
        }
        if (ctx.signal.aborted) onAbort();
        await collector.done;
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
        open.delete(channel);
        await bus.unsubscribe(channel, onReply).catch(() => undefined);
      }
      const { hosts: results, summary } = collector.summarize();
      for (const h of results) hostOutcomes.inc({ status: h.status });
      seconds.observe(summary.durationMs / 1000);
      return {
        requestId: id,
        provider: request.provider,
        args: request.args,
        where: request.where,
        hosts: results,
        summary,
        replies: collector.replies,
      };
    },
    async close() {
      for (const { collector } of open.values()) collector.abort("controller closed");
      await registrar.stop();
      if (!options.bus) await bus.close();
      await Promise.all(owned.map((c) => closeRedis(c)));
    },
  });
}
