/**
 * What the browser gets about a job: the record without the raw protocol replies, the
 * result as lines for non-fleet commands, a finished fleet job's output groups (outliers
 * first, with their diff against the majority), and only the progress events it can draw.
 */
import { outputGroups, type OutputGroup } from "../../../bot/format/outliers.ts";
import { resultLines } from "../../../bot/format/result.ts";
import type { JobEvent, JobRecord } from "../../../bot/jobs/types.ts";
import type { FleetResult } from "../../../executors/fleet/index.ts";

/** Most output groups a view carries: the smallest minorities, then the majority. */
export const MAX_GROUPS = 30;

/** One output group as the page draws it: its hostnames collapsed, without the full output. */
export type GroupView = Omit<OutputGroup, "hosts" | "text"> & {
  /** How many hosts the group has. */
  readonly count: number;
};

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
  /** A fleet result's groups of identical outcome, minorities first (at most {@link MAX_GROUPS}). */
  readonly groups?: readonly GroupView[];
  /** Groups left out beyond {@link MAX_GROUPS} (absent when none were). */
  readonly groupsOmitted?: number;
  readonly lines?: readonly string[];
}

/** The groups of `fleet` as the page shows them: the majority always, minorities up to the cap. */
export function groupViews(fleet: FleetResult): Pick<JobView, "groups" | "groupsOmitted"> {
  // Only the minorities the page shows get a diff: a fleet where every host differs would
  // otherwise cost one diff per host on every snapshot.
  const all = outputGroups(fleet, { diffs: MAX_GROUPS - 1 }).map(
    ({ hosts, text: _text, ...g }): GroupView => ({
      ...g,
      count: hosts.length,
    }),
  );
  if (all.length <= MAX_GROUPS) return { groups: all };
  return {
    groups: [...all.slice(0, MAX_GROUPS - 1), ...all.slice(-1)],
    groupsOmitted: all.length - MAX_GROUPS,
  };
}

/** The view of one job record. */
export function jobView(job: JobRecord): JobView {
  const { result, ...rest } = job;
  if (result === undefined) return rest;
  if (result.kind === "fleet") {
    const { replies: _replies, ...fleet } = result.fleet;
    return { ...rest, fleet, ...(fleet.hosts.length > 0 ? groupViews(result.fleet) : {}) };
  }
  return { ...rest, lines: resultLines(result) };
}

/** Whether the page uses this event (fleet progress and progress lines). */
export function drawable(entry: JobEvent): boolean {
  return entry.event.type === "fleet-progress" || entry.event.type === "progress";
}
