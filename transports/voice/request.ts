/**
 * The subset of the assistant's request envelope Commodore reads, as zod schemas. Anything
 * malformed is refused with the path of the first bad field; unknown fields are dropped.
 */
import { z } from "zod";

/** Longest id (application, user, session, request) accepted. */
const MAX_ID_LENGTH = 512;
/** Longest slot value or resolution value accepted. */
const MAX_VALUE_LENGTH = 500;
/** Most slots, authorities or resolution values read from one request. */
const MAX_ITEMS = 50;

const id = z.string().min(1).max(MAX_ID_LENGTH);
const name = z.string().min(1).max(200);
const confirmationStatus = z.enum(["NONE", "CONFIRMED", "DENIED"]);

const resolutionSchema = z.object({
  authority: z.string().max(MAX_VALUE_LENGTH).optional(),
  status: z.object({ code: z.string().max(100) }),
  values: z
    .array(
      z.object({
        value: z.object({
          name: z.string().max(MAX_VALUE_LENGTH),
          id: z.string().max(MAX_VALUE_LENGTH),
        }),
      }),
    )
    .max(MAX_ITEMS)
    .optional(),
});

/** One slot as the assistant sends it. */
export const slotSchema = z.object({
  name,
  value: z.string().max(MAX_VALUE_LENGTH).optional(),
  confirmationStatus: confirmationStatus.optional(),
  resolutions: z
    .object({ resolutionsPerAuthority: z.array(resolutionSchema).max(MAX_ITEMS) })
    .optional(),
});

/** The intent of an `IntentRequest`. */
export const intentSchema = z.object({
  name,
  confirmationStatus: confirmationStatus.default("NONE"),
  slots: z
    .record(z.string().max(200), slotSchema)
    .refine((s) => Object.keys(s).length <= MAX_ITEMS, `at most ${MAX_ITEMS} slots`)
    .optional(),
});

const applicationRef = z.object({ applicationId: id });

/** The request envelope (version, session, context, request). */
export const voiceEnvelopeSchema = z.object({
  version: z.string().max(20),
  session: z
    .object({
      new: z.boolean(),
      sessionId: id,
      application: applicationRef,
      attributes: z.record(z.string(), z.unknown()).optional(),
      user: z.object({ userId: id }),
    })
    .optional(),
  context: z.object({
    System: z.object({
      application: applicationRef,
      user: z.object({ userId: id }),
    }),
  }),
  request: z
    .object({
      type: z.string().min(1).max(100),
      requestId: id,
      timestamp: z.string().max(64),
      locale: z.string().max(20).optional(),
      reason: z.string().max(100).optional(),
      dialogState: z.string().max(50).optional(),
      intent: intentSchema.optional(),
    })
    .refine((r) => r.type !== "IntentRequest" || r.intent !== undefined, {
      message: "an IntentRequest needs an intent",
      path: ["intent"],
    }),
});

/** A parsed request envelope. */
export type VoiceEnvelope = z.infer<typeof voiceEnvelopeSchema>;
/** A parsed intent. */
export type VoiceIntent = z.infer<typeof intentSchema>;
/** A parsed slot. */
export type VoiceSlot = z.infer<typeof slotSchema>;

/** Describes the first schema problem as `path: message`, for a 400 answer. */
export function describeSchemaError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "invalid request";
  const path = issue.path.length === 0 ? "(body)" : issue.path.join(".");
  return `${path}: ${issue.message}`;
}
