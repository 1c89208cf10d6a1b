/**
 * What the browser gets about a job: the record without the raw protocol replies, the
 * result as lines for non-fleet commands, and only the progress events it can draw.
 */
import { resultLines } from "../../../bot/format/result.ts";
import type { JobEvent, JobRecord } from "../../../bot/jobs/types.ts";
import type { FleetResult } from "../../../executors/fleet/index.ts";

/** A job as the page draws it. */
export interface JobView {
  readonly id: string;
  readonly text: string;
  readonly command: string;
  readonly principal: string;
  readonly transport: string;
  readonly state: string;
  readonly createdAt: string;
  readonly finishedAt?: string;
  readonly targets?: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
  readonly fleet?: Omit<FleetResult, "replies">;
  readonly lines?: readonly string[];
}

/** The view of one job record. */
export function jobView(job: JobRecord): JobView {
  const { result, ...rest } = job;
  if (result === undefined) return rest;
  if (result.kind === "fleet") {
    const { replies: _replies, ...fleet } = result.fleet;
    return { ...rest, fleet };
  }
  return { ...rest, lines: resultLines(result) };
}

/** Whether the page uses this event (fleet progress and progress lines). */
export function drawable(entry: JobEvent): boolean {
  return entry.event.type === "fleet-progress" || entry.event.type === "progress";
}
