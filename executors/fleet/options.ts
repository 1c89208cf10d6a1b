/**
 * Validated options for the agent and the controller. The config loader composes these zod
 * schemas into the YAML configuration; the CLI builds the same objects from flags. Runtime
 * collaborators (Redis client, logger, metrics, provider registry) are passed alongside.
 */
import { availableParallelism } from "node:os";
import { z } from "zod";
import { authorizationSchema } from "./agent/authorization.ts";
import { DEFAULT_PREFIX } from "./protocol/channels.ts";
import { actionProvidersSchema } from "./providers/action-options.ts";
import { ENROLLMENT_MODES } from "./types.ts";

/** Default host key an agent signs replies with. */
export const DEFAULT_HOST_KEY = "/etc/ssh/ssh_host_ed25519_key";
/** Default allowed_signers file an agent trusts controllers from. */
export const DEFAULT_ALLOWED_SIGNERS = "/etc/commodore/allowed_signers";
/** Default Redis URL when neither option nor REDIS_URL is set. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** Default clock skew tolerated on registrations (and by agents on requests). */
export const DEFAULT_CLOCK_SKEW_MS = 5_000;
/** Upper bound for `clockSkewMs`. */
export const MAX_CLOCK_SKEW_MS = 300_000;
/** Default cap on a registration's claimed lifetime. */
export const DEFAULT_MAX_REGISTRATION_TTL_MS = 300_000;
/** Upper bound for `maxRegistrationTtlMs`. */
export const MAX_REGISTRATION_TTL_MS = 86_400_000;

/** Default for `startHoldMs`. */
export const DEFAULT_START_HOLD_MS = 50;
/** Upper bound for `startHoldMs` (well under any sensible ack timeout). */
export const MAX_START_HOLD_MS = 1_000;
/**
 * Default for `startDelayMs`: how long an agent answering a protocol-2 request lets a provider
 * run before it sends `start`. A provider done by then gets one signed reply, `complete`.
 */
export const DEFAULT_START_DELAY_MS = 25;
/** Upper bound for `startDelayMs` (well under the controller's default 2 s ack timeout). */
export const MAX_START_DELAY_MS = 500;
/** Upper bound for `verifyConcurrency` (verification threads). */
export const MAX_VERIFY_CONCURRENCY = 256;

/** One less than the usable cores (the event loop keeps one), at least 1. */
export function defaultVerifyConcurrency(): number {
  return Math.max(1, availableParallelism() - 1);
}

const ms = z.number().int().positive();
const factKey = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, "fact names are 1-64 of A-Z a-z 0-9 _ . -");

/** Options of `commodore agent`. */
export const agentOptionsSchema = z.object({
  redisUrl: z.string().default(DEFAULT_REDIS_URL),
  prefix: z.string().min(1).default(DEFAULT_PREFIX),
  /** Name the agent answers as; defaults to the machine's hostname. */
  hostname: z.string().min(1).max(255).optional(),
  hostKeyPath: z.string().min(1).default(DEFAULT_HOST_KEY),
  /**
   * OpenSSH host certificate of the host key, published in the registration so a controller
   * trusting its CA accepts this host without an operator. Default: `<hostKeyPath>-cert.pub`
   * when that file exists.
   */
  hostCertPath: z.string().min(1).optional(),
  allowedSignersPath: z.string().min(1).default(DEFAULT_ALLOWED_SIGNERS),
  /** Static facts such as role and env, merged over the collected ones (never over hostname). */
  facts: z.record(factKey, z.string().max(1024)).default({}),
  /** Providers running at once. */
  concurrency: z.number().int().min(1).max(1024).default(4),
  /** Requests waiting for a slot before the agent answers "busy". */
  queueLimit: z.number().int().min(0).max(100_000).default(64),
  /** Longest validity window (`expires_at - issued_at`) a request may claim. */
  maxTtlMs: ms.default(60_000),
  /** Clock difference tolerated on both sides of a request's window. */
  clockSkewMs: z.number().int().nonnegative().default(DEFAULT_CLOCK_SKEW_MS),
  /** How often the registration is refreshed. */
  heartbeatMs: ms.default(10_000),
  /** How long a registration lives without a heartbeat. */
  registrationTtlMs: ms.default(30_000),
  /** Upper bound on any provider's execution time, whatever the request asks. */
  maxExecTimeoutMs: ms.default(300_000),
  /**
   * For controllers that read protocol 2: a provider that finishes within this many ms is
   * answered with `complete` alone; one still running then gets `start` at once and `complete`
   * later. 0 always sends `start` first. Keep it well under the controller's ack timeout.
   */
  startDelayMs: z.number().int().min(0).max(MAX_START_DELAY_MS).default(DEFAULT_START_DELAY_MS),
  /** The action providers (service, exec, pull, log) this agent offers, and their limits. */
  actions: actionProvidersSchema.default({}),
  /** Which signer principals (and end users) may call which providers; default deny. */
  authorization: authorizationSchema.default({}),
});
/** Parsed agent options. */
export type AgentConfig = z.infer<typeof agentOptionsSchema>;
/** Agent options as written by a user (defaults optional). */
export type AgentConfigInput = z.input<typeof agentOptionsSchema>;

/** Longest principal a request may be signed as (the protocol's `sender` limit). */
export const MAX_SIGNER_PRINCIPAL = 255;

/**
 * One named signing identity of the controller: the key that signs requests made as that
 * identity and the principal they claim. The names are the caller's business (the bot uses
 * transport names); agents only ever see the principal.
 */
export const requestSignerSchema = z
  .object({
    /** Unencrypted OpenSSH private key that signs requests made as this identity. */
    keyPath: z.string().min(1),
    /** Principal the requests claim; agents' allowed_signers must list the key for it. */
    principal: z
      .string()
      .max(MAX_SIGNER_PRINCIPAL)
      .regex(
        /^[^\s",]+$/,
        "a principal without spaces, commas or quotes (the name in allowed_signers)",
      ),
  })
  .strict();
/** A parsed named signing identity (key file and principal). */
export type RequestSignerConfig = z.infer<typeof requestSignerSchema>;

/** Options of the controller (`commodore fleet`, the bot's fleet executor). */
export const controllerOptionsSchema = z.object({
  redisUrl: z.string().default(DEFAULT_REDIS_URL),
  prefix: z.string().min(1).default(DEFAULT_PREFIX),
  /** Controller private key that signs requests. */
  keyPath: z.string().min(1),
  /** Principal requests are signed as; must be listed for the key in agents' allowed_signers. */
  principal: z.string().min(1).max(255).default("commodore"),
  /** Validity window put in each request. */
  requestTtlMs: ms.default(60_000),
  /** How long to wait for each expected host's ack: its `start`, or a `complete` alone (v2). */
  ackTimeoutMs: ms.default(2_000),
  /** Execution timeout (after the host's ack) for providers not listed in providerTimeoutsMs. */
  execTimeoutMs: ms.default(30_000),
  /** Per-provider execution timeouts. */
  providerTimeoutsMs: z.record(z.string(), ms).default({
    ping: 5_000,
    uptime: 5_000,
    facts: 10_000,
    log: 10_000,
    service: 120_000,
    exec: 300_000,
    pull: 300_000,
  }),
  /**
   * The controller's known_hosts file (OpenSSH format): plain lines accept a host's key,
   * `@cert-authority` lines name CAs whose host certificates auto-accept a host, `@revoked`
   * lines refuse a key. Optional; acceptances made with `nodes accept` live in Redis, signed.
   */
  knownHostsPath: z.string().min(1).optional(),
  /**
   * How host keys nobody accepted yet are treated: `manual` (default) lists them as pending
   * until an operator runs `nodes accept`; `tofu` accepts the first key seen for a hostname.
   */
  enrollment: z.enum(ENROLLMENT_MODES).default("manual"),
  /**
   * allowed_signers file of further keys whose enrollment records (namespace
   * commodore-enrollment@commodore) this controller believes, e.g. the bot's key for a CLI that
   * signs with an operator's own key. The controller's own key is always believed.
   */
  enrollmentSignersPath: z.string().min(1).optional(),
  /**
   * The enrollment ledger (controller/ledger.ts): revocations, re-acceptances and retirements
   * appended and fsynced here before they are acknowledged, so deleting a rejection from Redis
   * or replaying an older acceptance never brings a key back. The bot uses
   * `<state>/enrollment-ledger.jsonl` unless this is set; without one, decisions live in Redis
   * alone.
   */
  enrollmentLedgerPath: z.string().min(1).optional(),
  /**
   * When this controller, starting, asks every agent to announce itself (a census):
   * `unless-live` (default; the CLI) only when no other controller is ingesting registrations,
   * `always` for a long-running controller such as the bot.
   */
  census: z.enum(["always", "unless-live"]).default("unless-live"),
  /** Clock difference tolerated between agents' registrations and this controller. */
  clockSkewMs: z.number().int().nonnegative().max(MAX_CLOCK_SKEW_MS).default(DEFAULT_CLOCK_SKEW_MS),
  /** Cap on the lifetime (`ttl_ms`) a registration may claim; older ones are refused as stale. */
  maxRegistrationTtlMs: ms.max(MAX_REGISTRATION_TTL_MS).default(DEFAULT_MAX_REGISTRATION_TTL_MS),
  /**
   * Verification threads (worker threads, shared by every controller of the process) that check
   * reply and registration signatures in batches while the event loop stays free; bursts too
   * small for a hand-off are checked on the event loop. 0 checks everything on the event loop.
   * Default: one less than the usable cores, at least 1; at most one thread per usable core runs.
   */
  verifyConcurrency: z
    .number()
    .int()
    .min(0)
    .max(MAX_VERIFY_CONCURRENCY)
    .default(() => defaultVerifyConcurrency()),
  /**
   * How long a `start` reply waits before its signature is checked. A verified `complete` from
   * the same host proves the ack, so a fast provider's start is then skipped unverified. Acks
   * keep their arrival time; only the progress event can come up to this much later.
   */
  startHoldMs: z.number().int().min(0).max(MAX_START_HOLD_MS).default(DEFAULT_START_HOLD_MS),
});
/** Parsed controller options. */
export type ControllerConfig = z.infer<typeof controllerOptionsSchema>;
/** Controller options as written by a user (defaults optional). */
export type ControllerConfigInput = z.input<typeof controllerOptionsSchema>;
