/**
 * Size limits of what the job store keeps: a job record's cap (outputs cut with a visible
 * marker), a progress event's cap, and the summary a list shows instead of the record.
 */
import { Buffer } from "node:buffer";
import type { BotEvent } from "../contract.ts";
import type { JobRecord, JobSummary } from "./types.ts";

/** Most bytes of one stored job record (JSON); longer outputs are cut with {@link TRUNCATION_MARKER}. */
export const MAX_JOB_RECORD_BYTES = 256 * 1024;
/** Default of `bot.jobRetention.maxJobs`: most jobs kept; the oldest are deleted first. */
export const DEFAULT_MAX_JOBS_KEPT = 10_000;
/** Default of `bot.jobRetention.maxBytes`: most bytes of job records and events kept (256 MiB). */
export const DEFAULT_MAX_JOB_BYTES_KEPT = 256 * 1024 * 1024;
/** Most bytes of one stored progress event (JSON). */
export const MAX_JOB_EVENT_BYTES = 8 * 1024;
/**
 * Most bytes of progress events stored for one job: later events still reach live viewers but
 * are not kept, so no `GET /jobs/:id` of any job answers more than about this much.
 */
export const MAX_JOB_EVENTS_BYTES = 8 * 1024 * 1024;
/** What a cut string ends with: `… [truncated: 12345 more characters]`. */
export const TRUNCATION_MARKER = "… [truncated:";
/** Strings are never cut shorter than this many characters (then whole parts are replaced). */
const MIN_KEPT_CHARS = 16;

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), "utf8");

function cutStrings(value: unknown, max: number): unknown {
  if (typeof value === "string")
    return value.length <= max
      ? value
      : `${value.slice(0, max)}${TRUNCATION_MARKER} ${value.length - max} more characters]`;
  if (Array.isArray(value)) return value.map((v) => cutStrings(v, max));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cutStrings(v, max)]));
  return value;
}

function longestString(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.reduce((m: number, v) => Math.max(m, longestString(v)), 0);
  if (typeof value === "object" && value !== null)
    return Object.values(value).reduce((m: number, v) => Math.max(m, longestString(v)), 0);
  return 0;
}

/**
 * `value` with its long strings cut (the longest kept length that fits, found by bisection)
 * so it is at most `maxBytes` as JSON; undefined when even the shortest cut does not fit.
 */
export function fitStrings<T>(value: T, maxBytes: number): T | undefined {
  if (bytesOf(value) <= maxBytes) return value;
  let lo = MIN_KEPT_CHARS;
  let hi = longestString(value);
  if (bytesOf(cutStrings(value, lo)) > maxBytes) return undefined;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytesOf(cutStrings(value, mid)) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return cutStrings(value, lo) as T;
}

/**
 * The record within `maxBytes`: long strings of the result cut first; a result that still
 * does not fit is replaced by a text result saying so; targets beyond what fits are dropped.
 */
export function capJobRecord(job: JobRecord, maxBytes = MAX_JOB_RECORD_BYTES): JobRecord {
  const size = bytesOf(job);
  if (size <= maxBytes) return job;
  const { result, ...rest } = job;
  const budget = maxBytes - bytesOf({ ...rest, truncated: true });
  const fitted = result === undefined || budget <= 0 ? undefined : fitStrings(result, budget);
  if (fitted !== undefined) return { ...rest, result: fitted, truncated: true };
  const note = `${TRUNCATION_MARKER} the result was ${size} bytes, over the job record cap of ${maxBytes}]`;
  const bare: JobRecord = {
    ...rest,
    ...(result === undefined ? {} : { result: { kind: "text", lines: [note] } }),
    truncated: true,
  };
  if (bytesOf(bare) <= maxBytes) return bare;
  const targets = (rest.targets ?? []).slice(0, Math.max(0, Math.floor(maxBytes / 2 / 64)));
  return fitStrings({ ...bare, targets }, maxBytes) ?? { ...bare, targets: [], text: note };
}

/** The event within `maxBytes`: strings cut, else replaced by a progress line saying so. */
export function capJobEvent(event: BotEvent, maxBytes = MAX_JOB_EVENT_BYTES): BotEvent {
  const fitted = fitStrings(event, maxBytes);
  if (fitted !== undefined) return fitted;
  const jobId = "jobId" in event && typeof event.jobId === "string" ? event.jobId : "";
  return {
    type: "progress",
    jobId,
    line: `${TRUNCATION_MARKER} a ${event.type} event over ${maxBytes} bytes]`,
  };
}

/** The numbers of a fleet result's summary, for lists. */
function countsOf(job: JobRecord): Readonly<Record<string, number>> | undefined {
  if (job.result?.kind !== "fleet") return undefined;
  const summary = job.result.fleet.summary as unknown as Record<string, unknown>;
  const entries = Object.entries(summary).filter(
    (e): e is [string, number] => typeof e[1] === "number",
  );
  return Object.fromEntries(entries);
}

/** What lists show of `job`. */
export function summarize(job: JobRecord): JobSummary {
  const counts = countsOf(job);
  return {
    id: job.id,
    text: job.text,
    command: job.command,
    principal: job.principal,
    transport: job.transport,
    state: job.state,
    createdAt: job.createdAt,
    updatedAt: job.finishedAt ?? job.createdAt,
    ...(job.finishedAt === undefined ? {} : { finishedAt: job.finishedAt }),
    targets: job.targets?.length ?? 0,
    ...(counts === undefined ? {} : { counts }),
    ...(job.confirmedBy === undefined ? {} : { confirmedBy: job.confirmedBy }),
    ...(job.rerunOf === undefined ? {} : { rerunOf: job.rerunOf }),
    ...(job.cancelledBy === undefined ? {} : { cancelledBy: job.cancelledBy }),
    ...(job.error === undefined ? {} : { errorCode: job.error.code }),
    ...(job.truncated === true ? { truncated: true } : {}),
  };
}
