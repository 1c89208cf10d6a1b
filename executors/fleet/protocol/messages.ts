/**
 * The protocol's payloads as zod schemas. Field names follow the original protocol
 * (`reply_to`, `match.all`, `match.node_facts`, `command.provider/args`, `in_reply_to`, `uuid`,
 * `hostname`, `status`, `output.exit/short`) plus what production needs: `protocol`, `id`,
 * `issued_at`, `expires_at` (ms since the epoch) and `sender`.
 */
import { z } from "zod";
import type { FactOp } from "../types.ts";

/**
 * Version of requests and enrollment records, and of registrations as agents write them: their
 * format has not changed since version 1, so agents and controllers of every release read them.
 */
export const PROTOCOL_VERSION = 1;
/**
 * Version 2 lets an agent answer a provider that finishes within its `startDelayMs` with a
 * single `complete` (which is also the acknowledgement) instead of `start` then `complete`.
 */
export const SINGLE_REPLY_PROTOCOL = 2;
/** Every protocol version this code speaks, oldest first (replies and registrations). */
export const SUPPORTED_PROTOCOLS: readonly number[] = [PROTOCOL_VERSION, SINGLE_REPLY_PROTOCOL];
/** Most versions a version list (`reply_protocols`, `protocols`) may name. */
const MAX_VERSIONS = 16;
const MAX_TEXT = 1024;
const MAX_NAME = 255;
const MAX_FACTS = 256;
const MAX_ARGS = 64;
const MAX_FILTERS = 32;
/** Longest OpenSSH certificate line a registration may carry. */
const MAX_CERTIFICATE = 16 * 1024;
/** Longest value in a fact condition (regex sources are capped lower by the regex engine). */
const MAX_CONDITION_VALUE = 256;

/** Comparisons a fact condition may use. */
export const FACT_OPS = [
  "==",
  "!=",
  "=~",
  "<",
  "<=",
  ">",
  ">=",
] as const satisfies readonly FactOp[];

const text = z.string().max(MAX_TEXT);
const name = z.string().min(1).max(MAX_NAME);
const facts = z
  .record(name, text)
  .refine((f) => Object.keys(f).length <= MAX_FACTS, `at most ${MAX_FACTS} facts`);
const epochMs = z.number().int().nonnegative();
const versionList = z.array(z.number().int().positive()).max(MAX_VERSIONS);
/**
 * A reply or registration version this code reads: 1 or 2. A plain check rather than a union
 * of literals: the union builds an error object for every version-2 reply it first tries as 1,
 * which cost about a fifth of a signature check per reply.
 */
const knownVersion = z.custom<typeof PROTOCOL_VERSION | typeof SINGLE_REPLY_PROTOCOL>(
  (v) => v === PROTOCOL_VERSION || v === SINGLE_REPLY_PROTOCOL,
  { message: `expected protocol ${PROTOCOL_VERSION} or ${SINGLE_REPLY_PROTOCOL}` },
);

/** A request broadcast to every agent. */
export const requestSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  type: z.literal("request"),
  id: z.string().uuid(),
  reply_to: name,
  issued_at: epochMs,
  expires_at: epochMs,
  sender: name,
  /** The end user the controller acts for (chat nick, API token name), for audit and policy. */
  on_behalf_of: name.optional(),
  match: z.object({
    all: z.boolean(),
    node_facts: facts,
    identity: z.array(name).max(MAX_FACTS).optional(),
    /** AND-ed fact conditions; agents that predate them ignore this field. */
    filters: z
      .array(
        z.object({ fact: name, op: z.enum(FACT_OPS), value: z.string().max(MAX_CONDITION_VALUE) }),
      )
      .max(MAX_FILTERS)
      .optional(),
  }),
  command: z.object({
    provider: name,
    args: z.array(text).max(MAX_ARGS),
    timeout_ms: z.number().int().positive().optional(),
  }),
  /**
   * Reply protocol versions the controller reads. An agent answers in the highest one it shares
   * (absent: 1, start then complete); agents that predate the field ignore it and answer in 1.
   */
  reply_protocols: versionList.optional(),
});
/** A verified request. */
export type RequestMessage = z.infer<typeof requestSchema>;

/**
 * Stops a request in flight: agents running request `cancels` for the same `sender` kill the
 * provider's process group and report `complete` with `cancelled: true`. Travels on the request
 * channel, signed like a request, with its own `id` for the replay cache. Agents that predate it
 * refuse it as a malformed request (counted) and let the provider run to its timeout.
 */
export const cancelSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  type: z.literal("cancel"),
  id: z.string().uuid(),
  cancels: z.string().uuid(),
  issued_at: epochMs,
  expires_at: epochMs,
  sender: name,
  /** Who cancelled (chat nick, API token name), for the agent's log. */
  on_behalf_of: name.optional(),
});
/** A verified cancel. */
export type CancelMessage = z.infer<typeof cancelSchema>;

/**
 * Asks every agent to announce its registration now, on the registrations channel: sent by a
 * controller that starts with no registrar live (controller/registrar.ts). Travels on the
 * request channel, signed like a request; an agent answers at most once a second. Agents that
 * predate it refuse it as malformed (counted) and announce at their next heartbeat.
 */
export const censusSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  type: z.literal("census"),
  id: z.string().uuid(),
  issued_at: epochMs,
  expires_at: epochMs,
  sender: name,
});
/** A verified census. */
export type CensusMessage = z.infer<typeof censusSchema>;

/** Everything the request channel carries. */
export const controlSchema = z.discriminatedUnion("type", [
  requestSchema,
  cancelSchema,
  censusSchema,
]);
/** A verified message of the request channel. */
export type ControlMessage = z.infer<typeof controlSchema>;

/** The output of a `complete` reply: `exit` and `short` plus the provider's own fields. */
export const outputSchema = z.object({ exit: z.number().int(), short: z.string() }).passthrough();
/** A provider result as sent on the wire. */
export type ReplyOutput = z.infer<typeof outputSchema>;

/** A reply from one agent. */
export const replySchema = z.object({
  protocol: knownVersion,
  type: z.literal("reply"),
  in_reply_to: z.string().uuid(),
  uuid: z.string().uuid().optional(),
  hostname: name,
  status: z.enum(["start", "noop", "complete"]),
  sent_at: epochMs,
  output: outputSchema.optional(),
});
/** A verified reply. */
export type ReplyMessage = z.infer<typeof replySchema>;

/** A node's self-description stored in the registry. */
export const registrationSchema = z.object({
  protocol: knownVersion,
  type: z.literal("registration"),
  hostname: name,
  facts,
  public_key: text,
  version: z.string().max(MAX_NAME),
  sent_at: epochMs,
  ttl_ms: z.number().int().positive(),
  /** The OpenSSH host certificate of `public_key`, when the agent has one (auto-enrollment). */
  certificate: z.string().max(MAX_CERTIFICATE).optional(),
  /** Protocol versions the agent speaks (absent: only 1); informational, requests negotiate. */
  protocols: versionList.optional(),
});
/** A registration payload. */
export type RegistrationMessage = z.infer<typeof registrationSchema>;
/**
 * The `ttl_ms` of a registration that announces a clean stop: controllers remove the host's
 * live entry at once (it is `absent` from then on, if accepted).
 */
export const LEAVING_TTL_MS = 1;
