/**
 * `where` terms, the same syntax on IRC, HTTP and the CLI's `--where`:
 *
 * - `fact=glob` (or `fact==glob`): glob(3) match, e.g. `role=web`, `hostname=www*`;
 * - `fact!=glob`: does not match;
 * - `fact=/regex/`: safe regex search (linear-time engine, see the fleet protocol docs);
 * - `fact<N`, `fact<=N`, `fact>N`, `fact>=N`: numeric, on the fact's leading number.
 *
 * All terms are AND-ed; a host without the fact matches no term about it.
 */
import { compileSafeRegex } from "../../executors/fleet/index.ts";
import type { FactCondition, FactFilter, FactOp } from "../../executors/fleet/index.ts";
import { errorMessage } from "../../lib/errors.ts";
import { CommandSyntaxError } from "./errors.ts";

/** Fact names: letters, digits, `_`, `.` and `-`, starting with a letter or `_`. */
export const FACT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** Most `where` terms one command may carry. */
export const MAX_WHERE_TERMS = 16;
const TERM = /^([^=!<>]*)(!=|>=|<=|==|=|<|>)([\s\S]*)$/;
const NUMBER = /^-?\d+(?:\.\d+)?$/;
const EXAMPLES = "e.g. `where role=web env!=prod cpus>=4 hostname=/^www\\d+$/`";

/** A parsed `where` clause: glob equalities plus other conditions. */
export interface WhereClause {
  readonly where: FactFilter;
  readonly filters: readonly FactCondition[];
}

function isRegex(value: string): boolean {
  return value.length >= 2 && value.startsWith("/") && value.endsWith("/");
}

/** Parses one term into a glob equality or a condition, naming the term on error. */
export function parseWhereTerm(term: string): { glob: [string, string] } | { cond: FactCondition } {
  const m = TERM.exec(term);
  if (!m)
    throw new CommandSyntaxError(
      `where term "${term}" must look like fact=glob, fact!=glob, fact=/regex/ or fact>=N`,
      EXAMPLES,
    );
  const [, fact = "", op = "", value = ""] = m;
  if (!FACT_NAME.test(fact))
    throw new CommandSyntaxError(
      `fact name "${fact}" in where term "${term}" is not valid`,
      "fact names use letters, digits, _ . - and start with a letter",
    );
  if (value === "") throw new CommandSyntaxError(`where term "${term}" has no value`, EXAMPLES);
  if (op === "=" || op === "==") {
    if (!isRegex(value)) return { glob: [fact, value] };
    const source = value.slice(1, -1);
    try {
      compileSafeRegex(source);
    } catch (err) {
      throw new CommandSyntaxError(`where term "${term}": ${errorMessage(err)}`);
    }
    return { cond: { fact, op: "=~", value: source } };
  }
  if (op === "!=") {
    if (isRegex(value))
      throw new CommandSyntaxError(
        `where term "${term}": negated regexes are not supported`,
        "use fact!=glob",
      );
    return { cond: { fact, op: "!=", value } };
  }
  if (!NUMBER.test(value))
    throw new CommandSyntaxError(
      `where term "${term}" compares with ${op}, so its value must be a number`,
      EXAMPLES,
    );
  return { cond: { fact, op: op as FactOp, value } };
}

/** Parses `where` terms into a clause, naming the bad term on error. */
export function parseWhere(terms: readonly string[], usage: string): WhereClause {
  if (terms.length === 0)
    throw new CommandSyntaxError("`where` needs at least one term", `usage: ${usage}`);
  if (terms.length > MAX_WHERE_TERMS)
    throw new CommandSyntaxError(`too many where terms (${terms.length}, max ${MAX_WHERE_TERMS})`);
  const where: Record<string, string> = {};
  const filters: FactCondition[] = [];
  for (const term of terms) {
    const parsed = parseWhereTerm(term);
    if ("cond" in parsed) {
      filters.push(parsed.cond);
      continue;
    }
    const [fact, glob] = parsed.glob;
    if (fact in where) throw new CommandSyntaxError(`fact "${fact}" appears twice in where`);
    where[fact] = glob;
  }
  return { where, filters };
}
