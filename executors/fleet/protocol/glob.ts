/**
 * glob(3)-style pattern matching without regular expressions: `*` (any run), `?` (any one
 * character), `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]` classes and `\` escapes. Patterns are
 * compiled once into tokens; hostile patterns cannot inject anything because nothing is
 * ever handed to a regex engine, and matching is iterative with single-star backtracking: at
 * most (pattern length + 1) × (text length + 1) steps, never exponential. Every match may be
 * charged to a step meter (see match-budget.ts).
 */
import type { StepMeter } from "./match-budget.ts";

type Token =
  | { readonly kind: "lit"; readonly ch: string }
  | { readonly kind: "any" }
  | { readonly kind: "star" }
  | {
      readonly kind: "class";
      readonly negate: boolean;
      readonly ranges: readonly (readonly [string, string])[];
    };

/** A compiled pattern. */
export interface Glob {
  readonly source: string;
  /** True when the whole of `text` matches; `meter` is charged the steps spent. */
  matches(text: string, meter?: StepMeter): boolean;
}

function parseClass(
  chars: readonly string[],
  start: number,
): { token: Token; next: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (chars[i] === "!" || chars[i] === "^") {
    negate = true;
    i++;
  }
  const ranges: [string, string][] = [];
  let first = true;
  while (i < chars.length && (chars[i] !== "]" || first)) {
    first = false;
    let lo = chars[i] as string;
    if (lo === "\\" && i + 1 < chars.length) lo = chars[++i] as string;
    if (chars[i + 1] === "-" && i + 2 < chars.length && chars[i + 2] !== "]") {
      let hi = chars[i + 2] as string;
      if (hi === "\\" && i + 3 < chars.length) hi = chars[++i + 2] as string;
      ranges.push([lo, hi]);
      i += 3;
    } else {
      ranges.push([lo, lo]);
      i++;
    }
  }
  if (i >= chars.length) return undefined;
  return { token: { kind: "class", negate, ranges }, next: i + 1 };
}

function tokenize(pattern: string): Token[] {
  const chars = [...pattern];
  const out: Token[] = [];
  for (let i = 0; i < chars.length;) {
    const c = chars[i] as string;
    if (c === "*") {
      if (out.at(-1)?.kind !== "star") out.push({ kind: "star" });
      i++;
    } else if (c === "?") {
      out.push({ kind: "any" });
      i++;
    } else if (c === "[") {
      const cls = parseClass(chars, i);
      if (cls) {
        out.push(cls.token);
        i = cls.next;
      } else {
        out.push({ kind: "lit", ch: "[" });
        i++;
      }
    } else if (c === "\\" && i + 1 < chars.length) {
      out.push({ kind: "lit", ch: chars[i + 1] as string });
      i += 2;
    } else {
      out.push({ kind: "lit", ch: c });
      i++;
    }
  }
  return out;
}

function matchOne(token: Token, ch: string): boolean {
  if (token.kind === "any") return true;
  if (token.kind === "lit") return token.ch === ch;
  if (token.kind === "class") {
    const inside = token.ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
    return inside !== token.negate;
  }
  return false;
}

/** Compiles a glob(3) pattern. */
export function compileGlob(pattern: string): Glob {
  const tokens = tokenize(pattern);
  const literal = tokens.every((t) => t.kind === "lit")
    ? pattern.replace(/\\(.)/gu, "$1")
    : undefined;
  return {
    source: pattern,
    matches(text: string, meter?: StepMeter): boolean {
      if (literal !== undefined) {
        meter?.(text.length + 1);
        return literal === text;
      }
      const chars = [...text];
      let t = 0;
      let p = 0;
      let starP = -1;
      let starT = 0;
      let steps = 0;
      while (t < chars.length) {
        steps++;
        const tok = tokens[p];
        if (tok !== undefined && tok.kind === "star") {
          starP = p++;
          starT = t;
        } else if (tok !== undefined && matchOne(tok, chars[t] as string)) {
          p++;
          t++;
        } else if (starP >= 0) {
          p = starP + 1;
          t = ++starT;
        } else {
          meter?.(steps);
          return false;
        }
      }
      while (tokens[p]?.kind === "star") p++;
      meter?.(steps + 1);
      return p === tokens.length;
    },
  };
}

const compiled = new Map<string, Glob>();
/** Bound on the compiled-pattern cache. */
const GLOB_CACHE_MAX = 10_000;

/**
 * Matches `text` against `pattern`, caching the compiled pattern; `meter` is charged the steps
 * spent.
 */
export function globMatch(pattern: string, text: string, meter?: StepMeter): boolean {
  let g = compiled.get(pattern);
  if (!g) {
    if (compiled.size >= GLOB_CACHE_MAX) compiled.clear();
    g = compileGlob(pattern);
    compiled.set(pattern, g);
  }
  return g.matches(text, meter);
}
