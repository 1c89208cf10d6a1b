/**
 * Jobs: every accepted command that touches hosts or changes something becomes one, with an
 * id, a state, progress events and a result. Reads that touch no host (`jobs`, `job`, `nodes`,
 * `audit`, `help`) answer directly and leave no job (bot/pipeline/steps.ts).
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
  /** True when outputs were cut to fit the job record cap (each cut carries a marker). */
  readonly truncated?: boolean;
}

/**
 * What job lists show of a job: never its result or events, so a list costs what it shows.
 * `counts` are the numbers of its fleet result summary (ok, failed, noAck, …) once finished.
 */
export interface JobSummary extends Pick<
  JobRecord,
  | "id"
  | "text"
  | "command"
  | "principal"
  | "transport"
  | "state"
  | "createdAt"
  | "finishedAt"
  | "confirmedBy"
  | "rerunOf"
  | "cancelledBy"
  | "truncated"
> {
  /** When the job last changed: its end, else its start. */
  readonly updatedAt: string;
  /** How many hosts it targets. */
  readonly targets: number;
  readonly counts?: Readonly<Record<string, number>>;
  /** The error code when the command itself failed. */
  readonly errorCode?: string;
}

/** One page of a job list, newest first; `nextCursor` asks for the next (older) page. */
export interface JobPage {
  readonly jobs: readonly JobSummary[];
  readonly nextCursor?: string;
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
  /** The most recent jobs' summaries, newest first (entries failing verification left out). */
  list(limit: number): Promise<readonly JobSummary[]>;
  /**
   * Up to `limit` summaries older than `cursor` (a previous page's `nextCursor`; absent: the
   * newest), newest first.
   */
  page(limit: number, cursor?: string): Promise<JobPage>;
}
