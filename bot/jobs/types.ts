/**
 * Jobs: every accepted command becomes one, with an id, a state, progress events and a result.
 */
import type { BotEvent, CommandResult, TransportName } from "../contract.ts";

/** Life cycle of a job. */
export type JobState = "running" | "succeeded" | "failed" | "cancelled";

/** One job as stored. */
export interface JobRecord {
  readonly id: string;
  /** The command text as typed. */
  readonly text: string;
  /** The command's canonical name. */
  readonly command: string;
  readonly principal: string;
  readonly transport: TransportName;
  readonly state: JobState;
  readonly createdAt: string;
  readonly finishedAt?: string;
  /** Hosts the job targets, when known. */
  readonly targets?: readonly string[];
  /** Principal who confirmed a dangerous command. */
  readonly confirmedBy?: string;
  /** The job this one reran (`rerun <job> failed|silent|all`). */
  readonly rerunOf?: string;
  /** Principal who cancelled the job (`cancel <job>`). */
  readonly cancelledBy?: string;
  readonly result?: CommandResult;
  /** Set when the command itself failed (not when some of its targets did). */
  readonly error?: { readonly code: string; readonly message: string };
}

/** A progress event with the time it was recorded. */
export interface JobEvent {
  readonly at: string;
  readonly event: BotEvent;
}

/** What the store publishes live on a job's events channel. */
export type JobLiveMessage =
  | { readonly type: "event"; readonly entry: JobEvent }
  | { readonly type: "finished"; readonly state: JobState };

/** Where jobs live; the Redis implementation survives a bot restart. */
export interface JobStore {
  create(job: JobRecord): Promise<void>;
  /** Appends a progress event. */
  addEvent(id: string, event: BotEvent): Promise<void>;
  /** Marks the job finished with its result or error. */
  finish(
    id: string,
    outcome: Pick<JobRecord, "state" | "result" | "error" | "cancelledBy"> & {
      readonly finishedAt: string;
    },
  ): Promise<void>;
  /** The job, or undefined when it is unknown, expired or its stored record fails verification. */
  get(id: string): Promise<JobRecord | undefined>;
  /** The job's progress events, oldest first; entries that fail verification are left out. */
  events(id: string): Promise<readonly JobEvent[]>;
  /** The most recent jobs, newest first (records that fail verification are left out). */
  list(limit: number): Promise<readonly JobRecord[]>;
}
