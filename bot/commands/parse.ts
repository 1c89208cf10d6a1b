/**
 * The one text parser every transport uses: `fleet uptime where role=web env=prod`.
 *
 * Words are tokenized with quotes, the first word picks the command, the following words fill
 * its declared arguments in order (`--flag` switches may appear anywhere among them), and
 * everything after the word `where` is a list of `fact=glob` terms that are AND-ed.
 */
import { suggest } from "../../lib/suggest.ts";
import { BadArgumentError, CommandSyntaxError } from "./errors.ts";
import type { CommandRegistry } from "./registry.ts";
import { tokenize } from "./tokenize.ts";
import {
  FLAG_SET,
  type ArgSpec,
  type ArgValues,
  type CommandSpec,
  type ParsedCommand,
} from "./types.ts";

/** Fact names: letters, digits, `_`, `.` and `-`, starting with a letter or `_`. */
export const FACT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** Most `where` terms one command may carry. */
export const MAX_WHERE_TERMS = 16;
const WHERE = "where";

/** Parses `where` terms (`fact=glob`) into a filter, naming the bad term on error. */
export function parseWhere(terms: readonly string[], usage: string): Record<string, string> {
  if (terms.length === 0)
    throw new CommandSyntaxError("`where` needs at least one fact=glob term", `usage: ${usage}`);
  if (terms.length > MAX_WHERE_TERMS)
    throw new CommandSyntaxError(`too many where terms (${terms.length}, max ${MAX_WHERE_TERMS})`);
  const where: Record<string, string> = {};
  for (const term of terms) {
    const eq = term.indexOf("=");
    const key = eq < 0 ? term : term.slice(0, eq);
    const value = eq < 0 ? "" : term.slice(eq + 1);
    if (eq < 0 || value === "")
      throw new CommandSyntaxError(
        `where term "${term}" must look like fact=glob`,
        "e.g. `where role=web hostname=www*`",
      );
    if (!FACT_NAME.test(key))
      throw new CommandSyntaxError(
        `fact name "${key}" in where term "${term}" is not valid`,
        "fact names use letters, digits, _ . - and start with a letter",
      );
    if (key in where) throw new CommandSyntaxError(`fact "${key}" appears twice in where`);
    where[key] = value;
  }
  return where;
}

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

/**
 * Takes a command's declared `--flags` out of `words`. For commands that declare flags, any
 * other `--word` is an error; for the others `--words` stay positional (provider arguments).
 */
function takeFlags(
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
  const argWords = whereAt >= 0 ? rest.slice(0, whereAt) : rest;
  const where = whereAt >= 0 ? parseWhere(rest.slice(whereAt + 1), spec.usage) : {};
  return { spec, typed, args: parseArgs(spec, argWords), where };
}
