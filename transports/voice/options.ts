/**
 * Configuration of the voice webhook (`voice:` in the bot configuration), validated with zod.
 *
 * Intent templates are checked here: every `{slot}` placeholder must be a declared slot, every
 * declared slot must be used, and every allowed value must be a single safe word.
 */
import { z } from "zod";
import { OptionsError } from "../../lib/errors.ts";
import { MAX_TIMESTAMP_TOLERANCE_SECONDS } from "./verify/timestamp.ts";
import { DEFAULT_TRUSTED_ROOTS_FILE } from "./verify/trust-store.ts";
import { DEFAULT_CERT_CACHE_SIZE } from "./verify/cert-cache.ts";

/** A slot value (after lowercasing) must match this: one word, nothing a parser treats specially. */
export const SLOT_VALUE = /^[a-z0-9_.-]+$/;
/** `{name}` placeholders in a command template. */
export const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;
/** Default time the assistant waits for an answer before the job is reported as still running. */
export const DEFAULT_ANSWER_DEADLINE_MS = 6_000;
/** The assistant gives up after 8 s; the deadline must leave room for the reply. */
const MAX_ANSWER_DEADLINE_MS = 7_500;
/** Largest request body accepted, in bytes. */
export const DEFAULT_MAX_BODY_BYTES = 128 * 1024;

const slotValue = z.string().regex(SLOT_VALUE, "expected one lowercase word of a-z 0-9 _ . -");

const slotOptionsSchema = z
  .object({
    /** Accepted values (entity-resolution ids or spoken values, lowercase). */
    allow: z.array(slotValue).min(1),
    /** Used when the user does not say a value; must be allowed. */
    default: slotValue.optional(),
  })
  .strict()
  .refine((s) => s.default === undefined || s.allow.includes(s.default), {
    message: "default must be one of the allowed values",
    path: ["default"],
  });

const intentOptionsSchema = z
  .object({
    /** Command template, e.g. `fleet uptime where role={role}`. */
    command: z.string().min(1).max(500),
    /** What the intent does, read out by the help intent. */
    description: z.string().min(1).max(200).optional(),
    slots: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), slotOptionsSchema).default({}),
  })
  .strict()
  .superRefine((intent, ctx) => {
    const used = new Set([...intent.command.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ""));
    for (const name of used)
      if (!(name in intent.slots))
        ctx.addIssue({
          code: "custom",
          path: ["command"],
          message: `placeholder {${name}} has no slot`,
        });
    for (const name of Object.keys(intent.slots))
      if (!used.has(name))
        ctx.addIssue({
          code: "custom",
          path: ["slots", name],
          message: `slot is not used in command`,
        });
    if (/[{}]/.test(intent.command.replace(PLACEHOLDER, "")))
      ctx.addIssue({ code: "custom", path: ["command"], message: "stray { or } in command" });
  });

/** The `voice:` configuration section. */
export const voiceOptionsSchema = z
  .object({
    /** Skill application ids this endpoint serves. */
    applicationIds: z.array(z.string().min(1).max(200)).min(1),
    /** PEM bundle of trusted roots. */
    trustedRootsFile: z.string().min(1).default(DEFAULT_TRUSTED_ROOTS_FILE),
    timestampToleranceSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_TIMESTAMP_TOLERANCE_SECONDS)
      .default(MAX_TIMESTAMP_TOLERANCE_SECONDS),
    answerDeadlineMs: z
      .number()
      .int()
      .min(100)
      .max(MAX_ANSWER_DEADLINE_MS)
      .default(DEFAULT_ANSWER_DEADLINE_MS),
    /** Roles allowed to run `change` commands by voice (after intent confirmation). */
    changeRoles: z.array(z.string().min(1)).default([]),
    /** Whether `dangerous` commands may be run by voice at all. */
    allowDangerous: z.boolean().default(false),
    certCacheSize: z.number().int().min(1).max(1_000).default(DEFAULT_CERT_CACHE_SIZE),
    maxBodyBytes: z
      .number()
      .int()
      .min(1_024)
      .max(1024 * 1024)
      .default(DEFAULT_MAX_BODY_BYTES),
    /** Name used in the greeting. */
    skillName: z.string().min(1).max(50).default("Commodore"),
    intents: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "intent names are letters, digits and _"),
        intentOptionsSchema,
      )
      .default({}),
  })
  .strict();

/** Validated voice options. */
export type VoiceOptions = z.infer<typeof voiceOptionsSchema>;
/** Validated options of one intent. */
export type IntentOptions = z.infer<typeof intentOptionsSchema>;

/** Validates raw `voice:` options; throws {@link OptionsError} naming the path, expectation and value. */
export function parseVoiceOptions(raw: unknown): VoiceOptions {
  const parsed = voiceOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = ["voice", ...(issue?.path ?? [])].join(".");
  throw new OptionsError(
    `${path}: ${issue?.message ?? "invalid"}`,
    "see docs/voice.md for the voice configuration",
  );
}
