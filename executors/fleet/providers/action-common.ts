/**
 * Shared pieces of the action providers: the checks every request argument passes before it
 * can reach a program, and the output shape of a program run.
 */
import type { ProcessResult } from "./process.ts";
import { ProviderArgsError, type ProviderOutput } from "./provider.ts";

/** Longest argument accepted. */
export const MAX_ARGUMENT_LENGTH = 256;
/** Longest `short` summary line taken from program output. */
const MAX_SHORT_LINE = 200;

/**
 * Throws unless `value` is a plain word: non-empty, bounded, no control characters (NUL,
 * newlines, …), no `..` and no leading `-` (so it can never turn into an option).
 */
export function checkArgument(provider: string, what: string, value: string, usage: string): void {
  const bad = (why: string) =>
    new ProviderArgsError(provider, `${what} ${JSON.stringify(value.slice(0, 64))} ${why}`, usage);
  if (value === "") throw bad("is empty");
  if (value.length > MAX_ARGUMENT_LENGTH) throw bad(`is longer than ${MAX_ARGUMENT_LENGTH}`);
  if (/\p{Cc}/u.test(value)) throw bad("contains control characters");
  if (value.includes("..")) throw bad('contains ".."');
  if (value.startsWith("-")) throw bad('starts with "-"');
}

function lastLine(text: string): string {
  const line =
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .at(-1) ?? "";
  return line.length > MAX_SHORT_LINE ? `${line.slice(0, MAX_SHORT_LINE)}…` : line;
}

/** A provider output for a program run: exit, one-line summary, streams, timing, truncation. */
export function processOutput(
  what: string,
  run: ProcessResult,
  extra: Readonly<Record<string, unknown>> = {},
): ProviderOutput {
  const [first, second] = run.exit === 0 ? [run.stdout, run.stderr] : [run.stderr, run.stdout];
  const tail = lastLine(first) || lastLine(second);
  const state = run.timedOut
    ? `timed out after ${run.durationMs} ms, stopped`
    : run.exit === 0
      ? "ok"
      : `exit ${run.exit}`;
  return {
    ...extra,
    exit: run.exit,
    short: `${what}: ${state}${tail === "" ? "" : ` (${tail})`}`,
    stdout: run.stdout,
    stderr: run.stderr,
    truncated: run.truncated,
    durationMs: run.durationMs,
    timedOut: run.timedOut,
  };
}
