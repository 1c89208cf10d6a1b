/**
 * `--flag` switches a command declares as arguments (e.g. `provision web01 --check`). Because
 * they are arguments, a grant can pin them (`args: {check: "yes"}`). For commands that declare
 * flags any other `--word` is an error with a suggestion; for the others `--words` stay
 * positional (provider arguments such as `fleet <provider> --x`).
 */
import { suggest } from "../../lib/suggest.ts";
import { BadArgumentError } from "./errors.ts";
import { FLAG_SET, type ArgValues, type CommandSpec } from "./types.ts";

/** Takes the declared flags out of `words`, recording them in `values`; returns the rest. */
export function takeFlags(
  spec: CommandSpec,
  words: readonly string[],
  values: Record<string, ArgValues[string]>,
): string[] {
  const flags = spec.args.filter((a) => a.kind === "flag").map((a) => `--${a.name}`);
  if (flags.length === 0) return [...words];
  const rest: string[] = [];
  for (const word of words) {
    if (!word.startsWith("--")) {
      rest.push(word);
      continue;
    }
    if (!flags.includes(word)) {
      const near = suggest(word, flags);
      throw new BadArgumentError(
        `unknown option "${word}" for "${spec.name}"`,
        near === undefined ? `options: ${flags.join(", ")}` : `did you mean "${near}"?`,
      );
    }
    values[word.slice(2)] = FLAG_SET;
  }
  return rest;
}
