/**
 * `--name value` options a command declares (e.g. the fleet's `--limit 2`, `--batch 25%`).
 * They may appear anywhere among the argument words before `where`; a bare `--` ends option
 * parsing so later words are plain arguments. Unknown `--words` stay arguments.
 */
import type { HostAmount } from "../../executors/fleet/index.ts";
import { BadArgumentError } from "./errors.ts";
import type { CommandSpec, OptionSpec, OptionValues } from "./types.ts";

const END_OF_OPTIONS = "--";
const AMOUNT = /^(\d{1,6})(%?)$/;
const MAX_PERCENT = 100;
/** Most entries in a list option. */
export const MAX_LIST_ITEMS = 256;
const LIST_ITEM = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,254}$/;

/** Parses `N` or `N%` (N ≥ 1, percentages up to 100). */
export function parseAmount(text: string): HostAmount | undefined {
  const m = AMOUNT.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n < 1) return undefined;
  if (m[2] === "%") return n <= MAX_PERCENT ? { percent: n } : undefined;
  return { count: n };
}

function parseValue(spec: CommandSpec, opt: OptionSpec, word: string): OptionValues[string] {
  const bad = (expected: string) =>
    new BadArgumentError(
      `--${opt.name} for "${spec.name}" must be ${expected}, got "${word.slice(0, 64)}"`,
      `usage: ${spec.usage}`,
    );
  if (opt.kind === "amount") {
    const amount = parseAmount(word);
    if (!amount) throw bad("a host count N or a percentage N% (1-100)");
    return amount;
  }
  if (opt.kind === "int") {
    const n = /^\d{1,9}$/.test(word) ? Number(word) : Number.NaN;
    if (!Number.isInteger(n) || n < opt.min || n > opt.max)
      throw bad(`a whole number from ${opt.min} to ${opt.max}`);
    return n;
  }
  const items = word.split(",").filter((w) => w !== "");
  if (items.length === 0 || items.length > MAX_LIST_ITEMS || !items.every((i) => LIST_ITEM.test(i)))
    throw bad(`a comma-separated list of up to ${MAX_LIST_ITEMS} names`);
  return [...new Set(items)];
}

/** Splits option words from argument words; throws naming the bad option. */
export function extractOptions(
  spec: CommandSpec,
  words: readonly string[],
): { words: string[]; options: OptionValues } {
  const declared = new Map((spec.options ?? []).map((o) => [`--${o.name}`, o]));
  const rest: string[] = [];
  const options: Record<string, OptionValues[string]> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === END_OF_OPTIONS && declared.size > 0) {
      rest.push(...words.slice(i + 1));
      break;
    }
    const opt = declared.get(word);
    if (!opt) {
      rest.push(word);
      continue;
    }
    const value = words[i + 1];
    if (value === undefined)
      throw new BadArgumentError(`${word} needs a value`, `usage: ${spec.usage}`);
    if (opt.name in options) throw new BadArgumentError(`${word} given twice`);
    options[opt.name] = parseValue(spec, opt, value);
    i++;
  }
  return { words: rest, options };
}
