/**
 * Encoding queued jobs for Redis and decoding them back. Everything read from Redis is
 * re-validated: a corrupted or hostile record yields `undefined`, never a crash.
 */
import { z } from "zod";
import type { ProvisionJob, ProvisionJobSpec, RunOutcome } from "../types.ts";

const TRIGGERS = ["command", "callback", "first-boot", "knock"] as const;
const RUN_STATUSES = [
  "succeeded",
  "failed",
  "unreachable",
  "refused",
  "timeout",
  "error",
  "cancelled",
] as const;
const STATES = ["pending", "running", "retrying", ...RUN_STATUSES] as const;
const MAX_FIELD = 512;

const specSchema = z
  .object({
    host: z.string().min(1).max(MAX_FIELD),
    address: z.string().min(1).max(MAX_FIELD).optional(),
    playbook: z.string().min(1).max(MAX_FIELD),
    trigger: z.enum(TRIGGERS),
    check: z.boolean(),
    requestedBy: z.string().min(1).max(MAX_FIELD),
    extraVars: z.record(z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict();

const count = z.number().int().nonnegative();
const outcomeSchema = z.object({
  status: z.enum(RUN_STATUSES),
  message: z.string(),
  recap: z
    .object({
      ok: count,
      changed: count,
      unreachable: count,
      failed: count,
      skipped: count,
      rescued: count,
      ignored: count,
    })
    .optional(),
  logFile: z.string().optional(),
  durationMs: z.number().nonnegative(),
});

/** Validates a spec from any source; returns an error message naming the field otherwise. */
export function validateSpec(spec: unknown): { spec: ProvisionJobSpec } | { error: string } {
  const parsed = specSchema.safeParse(spec);
  // zod leaves absent optional fields absent, so the exact-optional cast is sound.
  if (parsed.success) return { spec: parsed.data as ProvisionJobSpec };
  const issue = parsed.error.issues[0];
  return { error: `${issue?.path.join(".") || "request"}: ${issue?.message ?? "invalid"}` };
}

/** The JSON stored for a spec. */
export function encodeSpec(spec: ProvisionJobSpec): string {
  return JSON.stringify(spec);
}

/** Parses a stored spec; undefined when corrupt. */
export function decodeSpec(text: string | null | undefined): ProvisionJobSpec | undefined {
  if (!text) return undefined;
  try {
    const result = validateSpec(JSON.parse(text));
    return "spec" in result ? result.spec : undefined;
  } catch {
    return undefined;
  }
}

function decodeOutcome(text: string | undefined): RunOutcome | undefined {
  if (!text) return undefined;
  try {
    const parsed = outcomeSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as RunOutcome) : undefined;
  } catch {
    return undefined;
  }
}

/** Builds a job from its Redis hash; undefined when missing or corrupt. */
export function decodeJob(hash: Record<string, string>): ProvisionJob | undefined {
  const spec = decodeSpec(hash["spec"]);
  const state = z.enum(STATES).safeParse(hash["state"]);
  const attempts = Number(hash["attempts"]);
  const id = hash["id"];
  const enqueuedAt = hash["enqueuedAt"];
  if (!spec || !state.success || !Number.isInteger(attempts) || !id || !enqueuedAt)
    return undefined;
  const optional = (key: string) => (hash[key] ? { [key]: hash[key] } : {});
  const outcome = decodeOutcome(hash["outcome"]);
  return {
    ...spec,
    id,
    state: state.data,
    attempts,
    enqueuedAt,
    ...optional("startedAt"),
    ...optional("finishedAt"),
    ...(state.data === "retrying" ? optional("nextAttemptAt") : {}),
    ...(outcome ? { outcome } : {}),
  };
}

/** Delay before retry number `attempt` (1-based): base × 2^(attempt−1), capped. */
export function retryDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
