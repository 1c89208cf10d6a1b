/**
 * Regular expressions that are safe to take from the wire. Patterns are compiled into a small
 * Thompson NFA and run as a Pike VM: matching costs O(text × program) whatever the pattern, so
 * a hostile `(a+)+$` cannot stall an agent the way a backtracking engine would. The dialect is
 * the common subset of JavaScript regexes: literals, `.`, classes (`[a-z]`, `[^0-9]`), `\d \w
 * \s` (and upper-case negations), anchors `^ $`, groups `( )` / `(?: )`, `|`, and the
 * quantifiers `* + ? {n} {n,} {n,m}` (a trailing lazy `?` is accepted and changes nothing for a
 * yes/no match). Back-references, look-around and flags are refused. Matches are unanchored
 * searches, like `RegExp.prototype.test`.
 */
import { CommodoreError } from "../../../lib/errors.ts";
import type { StepMeter } from "./match-budget.ts";
import { parseRegex, type RegexNode } from "./regex-parse.ts";

/** Longest pattern accepted. */
export const MAX_REGEX_LENGTH = 256;
/** Largest compiled program (counted repetitions are expanded). */
const MAX_PROGRAM = 4_096;

type Inst =
  | { readonly op: "char"; readonly test: (c: string) => boolean }
  | { op: "split"; a: number; b: number }
  | { op: "jmp"; to: number }
  | { readonly op: "bol" | "eol" | "match" };

/** A pattern that cannot be used. */
export class RegexError extends CommodoreError {
  constructor(source: string, problem: string) {
    super("E_FLEET_REGEX", `regex /${source.slice(0, 40)}/: ${problem}`, {
      hint: "use literals, . [classes] \\d \\w \\s ^ $ ( | ) and * + ? {n,m}; no back-references or look-around",
    });
  }
}

/** A compiled safe regex. */
export interface SafeRegex {
  readonly source: string;
  /**
   * True when the pattern matches somewhere in `text`; `meter` is charged every step (and may
   * throw to stop a match that costs too much).
   */
  test(text: string, meter?: StepMeter): boolean;
}

function compile(source: string, root: RegexNode): Inst[] {
  const prog: Inst[] = [];
  const push = (inst: Inst): Inst => {
    if (prog.length >= MAX_PROGRAM)
      throw new RegexError(source, `compiles to more than ${MAX_PROGRAM} steps`);
    prog.push(inst);
    return inst;
  };
  const emit = (node: RegexNode): void => {
    switch (node.t) {
      case "char":
        push({ op: "char", test: node.test });
        return;
      case "bol":
      case "eol":
        push({ op: node.t });
        return;
      case "cat":
        node.xs.forEach(emit);
        return;
      case "alt": {
        const jumps: { op: "jmp"; to: number }[] = [];
        node.xs.forEach((x, i) => {
          if (i < node.xs.length - 1) {
            const split = { op: "split" as const, a: prog.length + 1, b: 0 };
            push(split);
            emit(x);
            const j = { op: "jmp" as const, to: 0 };
            push(j);
            jumps.push(j);
            split.b = prog.length;
          } else emit(x);
        });
        for (const j of jumps) j.to = prog.length;
        return;
      }
      case "rep": {
        for (let i = 0; i < node.min; i++) emit(node.x);
        if (node.max < 0) {
          const split = { op: "split" as const, a: prog.length + 1, b: 0 };
          const loop = prog.length;
          push(split);
          emit(node.x);
          push({ op: "jmp", to: loop });
          split.b = prog.length;
          return;
        }
        const splits: { op: "split"; a: number; b: number }[] = [];
        for (let i = node.min; i < node.max; i++) {
          const split = { op: "split" as const, a: prog.length + 1, b: 0 };
          push(split);
          splits.push(split);
          emit(node.x);
        }
        for (const s of splits) s.b = prog.length;
      }
    }
  };
  emit(root);
  push({ op: "match" });
  return prog;
}

/**
 * Runs the program over `text`. Every thread visited and every character test is a step;
 * `meter` is charged once per character position, so a costly match stops within one position.
 */
function run(prog: readonly Inst[], text: string, meter: StepMeter | undefined): boolean {
  const chars = [...text];
  const mark = new Int32Array(prog.length);
  let gen = 1;
  let steps = 0;
  const add = (list: number[], start: number, pos: number): void => {
    const stack = [start];
    while (stack.length > 0) {
      const pc = stack.pop() as number;
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      steps++;
      const inst = prog[pc] as Inst;
      if (inst.op === "jmp") stack.push(inst.to);
      else if (inst.op === "split") stack.push(inst.b, inst.a);
      else if (inst.op === "bol") {
        if (pos === 0) stack.push(pc + 1);
      } else if (inst.op === "eol") {
        if (pos === chars.length) stack.push(pc + 1);
      } else list.push(pc);
    }
  };
  const charge = (): void => {
    meter?.(steps);
    steps = 0;
  };
  let current: number[] = [];
  add(current, 0, 0);
  for (let pos = 0; ; pos++) {
    const matched = current.some((pc) => prog[pc]?.op === "match");
    charge();
    if (matched) return true;
    if (pos === chars.length) return false;
    gen++;
    const next: number[] = [];
    const ch = chars[pos] as string;
    for (const pc of current) {
      const inst = prog[pc] as Inst;
      steps++;
      if (inst.op === "char" && inst.test(ch)) add(next, pc + 1, pos + 1);
    }
    add(next, 0, pos + 1);
    current = next;
  }
}

/** Compiles `source`; throws {@link RegexError} for unsupported or oversized patterns. */
export function compileSafeRegex(source: string): SafeRegex {
  if (source.length > MAX_REGEX_LENGTH)
    throw new RegexError(source, `longer than ${MAX_REGEX_LENGTH} characters`);
  let root: RegexNode;
  try {
    root = parseRegex(source);
  } catch (err) {
    throw new RegexError(source, (err as Error).message);
  }
  const prog = compile(source, root);
  return { source, test: (text, meter) => run(prog, text, meter) };
}

const cache = new Map<string, SafeRegex | undefined>();
/** Bound on the compiled-pattern cache. */
const REGEX_CACHE_MAX = 1_000;

/**
 * Tests `text` against `source`, caching compiled patterns; invalid patterns never match.
 * `meter` is charged with the steps spent (see {@link SafeRegex.test}).
 */
export function safeRegexMatch(source: string, text: string, meter?: StepMeter): boolean {
  let re = cache.get(source);
  if (!cache.has(source)) {
    if (cache.size >= REGEX_CACHE_MAX) cache.clear();
    try {
      re = compileSafeRegex(source);
    } catch {
      re = undefined;
    }
    cache.set(source, re);
  }
  return re?.test(text, meter) ?? false;
}
