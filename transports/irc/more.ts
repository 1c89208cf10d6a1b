/**
 * `more <job>`: sends a job's full output, kept in the {@link OutputCache}, by private message.
 */
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

/** Handles `more <job>`. */
export function moreCommand(
  command: string,
  cache: OutputCache,
  jobUrl: (jobId: string) => string | undefined,
  out: MoreOutput,
): void {
  const jobId = /^more\s+(\S+)\s*$/i.exec(command)?.[1];
  if (jobId === undefined) return out.reply(["usage: more <job id>"]);
  const url = jobUrl(jobId);
  const lines = cache.get(jobId);
  if (lines === undefined) {
    const see = url === undefined ? "" : `; see ${url}`;
    return out.reply([`no stored output for job ${jobId} (it may have expired)${see}`]);
  }
  const shown = lines.slice(0, MAX_PRIVATE_LINES);
  const rest = lines.length - shown.length;
  const tail = rest > 0 ? [`… ${rest} more lines${url === undefined ? "" : ` at ${url}`}`] : [];
  out.privately([...shown, ...tail]);
  if (!out.isPrivate) out.reply([`sent ${shown.length} lines of job ${jobId} by private message`]);
}
