/**
 * The one text parser every transport uses: `fleet uptime where role=web env=prod`.
 *
 * Words are tokenized with quotes, the first word picks the command, the following words fill
 * its declared arguments in order (declared `--name value` options and `--flag` switches may
 * sit among them: options.ts, flags.ts), and everything after the word `where` is a list of
 * AND-ed terms (see where.ts).
 */
import { suggest } from "../../lib/suggest.ts";
import { BadArgumentError, CommandSyntaxError } from "./errors.ts";
import { takeFlags } from "./flags.ts";
import type { CommandRegistry } from "./registry.ts";
import { extractOptions } from "./options.ts";
import { tokenize } from "./tokenize.ts";
import type { ArgSpec, ArgValues, CommandSpec, ParsedCommand } from "./types.ts";
import { parseWhere } from "./where.ts";

const WHERE = "where";

function parseArg(spec: CommandSpec, arg: ArgSpec, word: string): string | number {
  if (arg.kind === "int") {
    const n = /^\d{1,9}$/.test(word) ? Number(word) : Number.NaN;
    if (!Number.isInteger(n) || n < arg.min || n > arg.max)
      throw new BadArgumentError(
        `${arg.name} for "${spec.name}" must be a whole number from ${arg.min} to ${arg.max}, got "${word}"`,
        `usage: ${spec.usage}`,
      );
    return n;
  }
  if (arg.kind === "word" && arg.choices) {
    const choices = arg.choices();
    if (!choices.includes(word)) {
      const near = suggest(word, choices);
      throw new BadArgumentError(
        `unknown ${arg.name} "${word}" for "${spec.name}"`,
        near === undefined ? `one of: ${choices.join(", ")}` : `did you mean "${near}"?`,
      );
    }
  }
  return word;
}

function parseArgs(spec: CommandSpec, allWords: readonly string[]): ArgValues {
  const values: Record<string, string | number | readonly string[]> = {};
  const words = takeFlags(spec, allWords, values);
  let i = 0;
  for (const arg of spec.args) {
    if (arg.kind === "flag") continue;
    if (arg.kind === "rest") {
      values[arg.name] = words.slice(i);
      i = words.length;
      break;
    }
    const word = words[i];
    if (word === undefined) {
      if (arg.required)
        throw new BadArgumentError(`"${spec.name}" needs ${arg.name}`, `usage: ${spec.usage}`);
      break;
    }
    values[arg.name] = parseArg(spec, arg, word);
    i++;
  }
  if (i < words.length)
    throw new BadArgumentError(
      `unexpected argument "${words[i] ?? ""}" for "${spec.name}"`,
      `usage: ${spec.usage}`,
    );
  return values;
}

/** Parses command text against the registry. Throws typed errors with suggestions. */
export function parseCommand(text: string, registry: CommandRegistry): ParsedCommand {
  const words = tokenize(text);
  const [typed, ...rest] = words;
  if (typed === undefined)
    throw new CommandSyntaxError("empty command", "say `help` for the commands you may run");
  const spec = registry.resolve(typed);
  const whereAt = rest.findIndex((w) => w.toLowerCase() === WHERE);
  if (whereAt >= 0 && !spec.takesWhere)
    throw new BadArgumentError(
      `"${spec.name}" does not take a where filter`,
      `usage: ${spec.usage}`,
    );
  const { words: argWords, options } = extractOptions(
    spec,
    whereAt >= 0 ? rest.slice(0, whereAt) : rest,
  );
  const clause = whereAt >= 0 ? parseWhere(rest.slice(whereAt + 1), spec.usage) : undefined;
  return {
    spec,
    typed,
    args: parseArgs(spec, argWords),
    where: clause?.where ?? {},
    ...(clause && clause.filters.length > 0 ? { filters: clause.filters } : {}),
    ...(Object.keys(options).length > 0 ? { options } : {}),
  };
}
