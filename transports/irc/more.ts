/**
 * `more <job>`: sends a job's full output, kept in the {@link OutputCache}, by private message —
 * to the principal whose command produced it, or to anyone the policy lets run `job <id>`.
 * Everyone else gets the refusal `job` would give, whether or not the output is stored.
 */
import type { JobReadDenial } from "../../bot/commands/job-access.ts";
import { formatError } from "./format/events.ts";
import type { OutputCache } from "./output-cache.ts";
import { MAX_PRIVATE_LINES } from "./session.ts";

/** Where `more` writes. */
export interface MoreOutput {
  /** Answer where the command was typed. */
  readonly reply: (lines: readonly string[]) => void;
  /** Send to the caller privately. */
  readonly privately: (lines: readonly string[]) => void;
  /** True when `more` itself came by private message. */
  readonly isPrivate: boolean;
}

/** Who asks, and whether they may read a job. */
export interface MoreAccess {
  /** The caller's principal id. */
  readonly principalId: string;
  /** Why the caller may not run `job <id>`, or undefined when they may. */
  readonly denial: (jobId: string) => JobReadDenial | undefined;
}

/** Handles `more <job>`. */
export function moreCommand(
  command: string,
  cache: OutputCache,
  jobUrl: (jobId: string) => string | undefined,
  out: MoreOutput,
  access: MoreAccess,
): void {
  const jobId = /^more\s+(\S+)\s*$/i.exec(command)?.[1];
  if (jobId === undefined) return out.reply(["usage: more <job id>"]);
  const stored = cache.get(jobId);
  if (stored?.owner !== access.principalId) {
    const denied = access.denial(jobId);
    if (denied !== undefined) return out.reply([formatError(denied)]);
  }
  const url = jobUrl(jobId);
  if (stored === undefined) {
    const see = url === undefined ? "" : `; see ${url}`;
    return out.reply([`no stored output for job ${jobId} (it may have expired)${see}`]);
  }
  const lines = stored.lines;
  const shown = lines.slice(0, MAX_PRIVATE_LINES);
  const rest = lines.length - shown.length;
  const tail = rest > 0 ? [`… ${rest} more lines${url === undefined ? "" : ` at ${url}`}`] : [];
  out.privately([...shown, ...tail]);
  if (!out.isPrivate) out.reply([`sent ${shown.length} lines of job ${jobId} by private message`]);
}
