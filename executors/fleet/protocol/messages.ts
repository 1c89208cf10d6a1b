/**
 * The protocol's payloads as zod schemas. Field names follow the original protocol
 * (`reply_to`, `match.all`, `match.node_facts`, `command.provider/args`, `in_reply_to`, `uuid`,
 * `hostname`, `status`, `output.exit/short`) plus what production needs: `protocol`, `id`,
 * `issued_at`, `expires_at` (ms since the epoch) and `sender`.
 */
import { z } from "zod";
import type { FactOp } from "../types.ts";

/** Protocol version carried in every payload. */
export const PROTOCOL_VERSION = 1;
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
});
/** A verified request. */
export type RequestMessage = z.infer<typeof requestSchema>;

/** The output of a `complete` reply: `exit` and `short` plus the provider's own fields. */
export const outputSchema = z.object({ exit: z.number().int(), short: z.string() }).passthrough();
/** A provider result as sent on the wire. */
export type ReplyOutput = z.infer<typeof outputSchema>;

/** A reply from one agent. */
export const replySchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
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
  protocol: z.literal(PROTOCOL_VERSION),
  type: z.literal("registration"),
  hostname: name,
  facts,
  public_key: text,
  version: z.string().max(MAX_NAME),
  sent_at: epochMs,
  ttl_ms: z.number().int().positive(),
  /** The OpenSSH host certificate of `public_key`, when the agent has one (auto-enrollment). */
  certificate: z.string().max(MAX_CERTIFICATE).optional(),
});
/** A registration payload. */
export type RegistrationMessage = z.infer<typeof registrationSchema>;
