/**
 * Flag parsers `commodore agent` shares with other subcommands (`fleet`), in a module of their own so
 * the agent process does not load the controller-side commands that also use them.
 */
import { InvalidArgumentError } from "../errors.ts";

/** Parses repeated `key=value` flags into a record. */
export function parseAssignments(
  command: string,
  flag: string,
  values: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(command, flag, "key=value", v);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** Parses a positive integer flag. */
export function parsePositiveInt(
  command: string,
  flag: string,
  value: string | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(command, flag, "a positive integer", value);
  return n;
}
