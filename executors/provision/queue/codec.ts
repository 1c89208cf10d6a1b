/**
 * Encoding queued jobs for Redis and decoding them back. Everything read from Redis is
 * re-validated: a corrupted or hostile record yields `undefined`, never a crash.
 *
 * The fields that decide or report a run are sealed (lib/seal.ts) and bound to the job's hash
 * key `<prefix>job:<id>`: `spec` (host, address, playbook, trigger, check, extra vars, who
 * asked) and `outcome`. The hash never moves (only job ids move between the pending, delayed
 * and running structures), so a spec verifies only in the job it was queued as. The
 * bookkeeping fields the Lua scripts update in place (state, attempts, owner, timestamps)
 * are not sealed: Redis cannot compute the MAC, and they decide when a sealed spec runs,
 * never what runs or where.
 */
import { z } from "zod";
import type { SealVerifyReason, StateSealer } from "../../../lib/seal.ts";
import type { ProvisionJob, ProvisionJobSpec, RunOutcome } from "../types.ts";

/** Record kind of a job's `spec` field in its seal. */
export const SPEC_KIND = "provision-spec";
/** Record kind of a job's `outcome` field in its seal. */
export const OUTCOME_KIND = "provision-outcome";

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

/** The stored `spec` field of the job hash at `jobKey`. */
export function sealSpec(sealer: StateSealer, jobKey: string, spec: ProvisionJobSpec): string {
  return sealer.seal(SPEC_KIND, jobKey, spec);
}

/** The stored `outcome` field of the job hash at `jobKey`. */
export function sealOutcome(sealer: StateSealer, jobKey: string, outcome: RunOutcome): string {
  return sealer.seal(OUTCOME_KIND, jobKey, outcome);
}

/**
 * The spec stored in the job hash at `jobKey`, or why it was refused: missing, not sealed by
 * this controller for this job, or invalid. Refusals are counted and logged by the sealer.
 */
export function openSpec(
  sealer: StateSealer,
  jobKey: string,
  raw: string | null | undefined,
): { readonly spec: ProvisionJobSpec } | { readonly refused: SealVerifyReason } {
  if (!raw) {
    sealer.reject(SPEC_KIND, jobKey, "malformed", "the job has no spec");
    return { refused: "malformed" };
  }
  const opened = sealer.open(SPEC_KIND, jobKey, raw);
  if (!opened.ok) return { refused: opened.reason };
  const checked = validateSpec(opened.value);
  if ("error" in checked) {
    sealer.reject(SPEC_KIND, jobKey, "malformed", "the spec does not validate");
    return { refused: "malformed" };
  }
  return checked;
}

/**
 * Builds a job from its Redis hash at `jobKey`; undefined when missing or corrupt, or when
 * its spec or outcome fails verification (counted and logged).
 */
export function decodeJob(
  sealer: StateSealer,
  jobKey: string,
  hash: Record<string, string>,
): ProvisionJob | undefined {
  if (Object.keys(hash).length === 0) return undefined;
  const opened = openSpec(sealer, jobKey, hash["spec"]);
  if (!("spec" in opened)) return undefined;
  const { spec } = opened;
  const state = z.enum(STATES).safeParse(hash["state"]);
  const attempts = Number(hash["attempts"]);
  const id = hash["id"];
  const enqueuedAt = hash["enqueuedAt"];
  if (!state.success || !Number.isInteger(attempts) || !id || !enqueuedAt) return undefined;
  const optional = (key: string) => (hash[key] ? { [key]: hash[key] } : {});
  let outcome: RunOutcome | undefined;
  const rawOutcome = hash["outcome"];
  if (rawOutcome) {
    const sealed = sealer.open(OUTCOME_KIND, jobKey, rawOutcome);
    if (!sealed.ok) return undefined;
    const parsed = outcomeSchema.safeParse(sealed.value);
    // zod leaves absent optional fields absent, so the exact-optional cast is sound.
    outcome = parsed.success ? (parsed.data as RunOutcome) : undefined;
  }
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
