/**
 * `POST /voice/alexa`: the voice assistant's webhook as a hono sub-app. The raw body bytes are
 * read before anything parses them, every request is verified (see `verify/verifier.ts`), its
 * request id is claimed in the replay cache (see `replay.ts`), and only then answered.
 * Failures answer 400 with a code and a short reason (503 when the replay cache cannot be
 * asked); the log gets the same plus a request id, never the body or the caller's ids.
 */
import { statusForCode } from "../http/errors.ts";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { errorMessage } from "../../lib/errors.ts";
import type { MetricsRegistry } from "../../lib/metrics.ts";
import { answerRequest } from "./dialog.ts";
import type { DialogDeps } from "./dialog.ts";
import { MemoryReplayCache, type ReplayCache } from "./replay.ts";
import type { VoiceEnvelope } from "./request.ts";
import { say } from "./response.ts";
import type { VoiceResponse } from "./response.ts";
import { CertCache } from "./verify/cert-cache.ts";
import { VoiceVerifyError } from "./verify/errors.ts";
import { createCertFetcher } from "./verify/fetch-chain.ts";
import type { FetchCertChain } from "./verify/fetch-chain.ts";
import { loadTrustStore, parseTrustStore } from "./verify/trust-store.ts";
import { CERT_URL_HEADER, SIGNATURE_HEADER, createVoiceVerifier } from "./verify/verifier.ts";

const MS_PER_SECOND = 1_000;
/**
 * A request id is remembered this many times the timestamp tolerance: a request passes the
 * timestamp check from `tolerance` before its timestamp to `tolerance` after it.
 */
const REPLAY_WINDOWS = 2;
/** The command gets at least this long even when verification was slow. */
const MIN_RUN_MS = 100;

/** What the webhook needs; side effects (trust store, fetcher, clock) are injectable. */
export interface AlexaRoutesDeps extends Omit<DialogDeps, "intents"> {
  readonly metrics: MetricsRegistry;
  /** PEM trusted roots; default: read `options.trustedRootsFile`. */
  readonly trustedRootsPem?: string;
  /** Default: HTTPS download with timeout and size cap. */
  readonly fetchCertChain?: FetchCertChain;
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /**
   * Where answered request ids are remembered; default: this process's memory.
   * `commodore start` passes the Redis one, shared by every replica.
   */
  readonly replay?: ReplayCache;
}

/** Creates the webhook sub-app; mount it with `app.route("/voice/alexa", createAlexaRoutes(deps))`. */
export function createAlexaRoutes(deps: AlexaRoutesDeps): Hono {
  const { options, metrics } = deps;
  const log = deps.log.child({ component: "voice" });
  const roots =
    deps.trustedRootsPem === undefined
      ? loadTrustStore(options.trustedRootsFile)
      : parseTrustStore(deps.trustedRootsPem);
  const verify = createVoiceVerifier({
    roots,
    fetchCertChain: deps.fetchCertChain ?? createCertFetcher(),
    now: deps.now ?? Date.now,
    applicationIds: options.applicationIds,
    toleranceSeconds: options.timestampToleranceSeconds,
    cache: new CertCache(options.certCacheSize),
  });
  const replay = deps.replay ?? new MemoryReplayCache(deps.now ?? Date.now);
  const replayTtlMs = REPLAY_WINDOWS * options.timestampToleranceSeconds * MS_PER_SECOND;
  const requests = metrics.counter(
    "commodore_voice_requests_total",
    "Voice webhook requests by outcome",
  );
  const seconds = metrics.histogram(
    "commodore_voice_answer_seconds",
    "Time to answer a verified voice request",
  );
  const dialogDeps: DialogDeps = {
    options,
    handler: deps.handler,
    resolvePrincipal: deps.resolvePrincipal,
    commandRisk: deps.commandRisk,
    log,
    intents: metrics.counter(
      "commodore_voice_intents_total",
      "Voice intents by intent and outcome",
    ),
  };

  const app = new Hono();
  const limit = bodyLimit({
    maxSize: options.maxBodyBytes,
    onError: (c) => {
      requests.inc({ outcome: "E_VOICE_TOO_LARGE" });
      return c.json(
        { error: "E_VOICE_TOO_LARGE", message: `body exceeds ${options.maxBodyBytes} bytes` },
        statusForCode("E_VOICE_TOO_LARGE"),
      );
    },
  });
  /** Answers 400 with the failure's code and logs it (never the body or the caller's ids). */
  const reject = (c: Context, rid: string, err: unknown): Response => {
    const code = err instanceof VoiceVerifyError ? err.code : "E_VOICE_VERIFY";
    const reason = err instanceof VoiceVerifyError ? err.message : "verification failed";
    if (!(err instanceof VoiceVerifyError))
      log.error("voice verification crashed", { rid, error: errorMessage(err) });
    requests.inc({ outcome: code });
    log.warn("voice request rejected", { rid, code, reason });
    return c.json({ error: code, message: reason }, statusForCode(code));
  };
  app.post("/", limit, async (c) => {
    const rid = randomUUID();
    const started = performance.now();
    const body = new Uint8Array(await c.req.arrayBuffer());
    let env: VoiceEnvelope;
    try {
      env = await verify(body, {
        certUrl: c.req.header(CERT_URL_HEADER),
        signature: c.req.header(SIGNATURE_HEADER),
      });
    } catch (err) {
      return reject(c, rid, err);
    }
    let fresh: boolean;
    try {
      fresh = await replay.claim(env.request.requestId, replayTtlMs);
    } catch (err) {
      // Fail closed: without the shared cache a replayed request could run again.
      requests.inc({ outcome: "E_VOICE_UNAVAILABLE" });
      log.error("voice replay cache unavailable", { rid, error: errorMessage(err) });
      return c.json(
        { error: "E_VOICE_UNAVAILABLE", message: "the replay check is unavailable" },
        statusForCode("E_VOICE_UNAVAILABLE"),
      );
    }
    if (!fresh)
      return reject(
        c,
        rid,
        new VoiceVerifyError("E_VOICE_REPLAY", "this request id was already received"),
      );
    const fields = {
      rid,
      requestId: env.request.requestId,
      type: env.request.type,
      intent: env.request.intent?.name,
    };
    // Time spent verifying (a certificate download) comes out of the answer deadline.
    const budgetMs = Math.max(
      MIN_RUN_MS,
      options.answerDeadlineMs - Math.round(performance.now() - started),
    );
    let answer: VoiceResponse;
    try {
      answer = await answerRequest(env, dialogDeps, budgetMs);
    } catch (err) {
      log.error("voice request failed", { ...fields, error: errorMessage(err) });
      answer = say("Sorry, something went wrong. Please try again.");
    }
    requests.inc({ outcome: "answered" });
    seconds.observe((performance.now() - started) / MS_PER_SECOND);
    log.info("voice request answered", fields);
    return c.json(answer);
  });
  return app;
}
