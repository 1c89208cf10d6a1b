/**
 * Parses the safe regex dialect (see regex.ts) into a syntax tree. Throws a plain Error whose
 * message names the problem and its position; regex.ts wraps it in a typed error.
 */

/** A parsed pattern. `rep.max` is -1 for unbounded. */
export type RegexNode =
  | { readonly t: "char"; readonly test: (c: string) => boolean }
  | { readonly t: "bol" }
  | { readonly t: "eol" }
  | { readonly t: "cat"; readonly xs: readonly RegexNode[] }
  | { readonly t: "alt"; readonly xs: readonly RegexNode[] }
  | { readonly t: "rep"; readonly x: RegexNode; readonly min: number; readonly max: number };

/** Largest count allowed in `{n,m}`. */
const MAX_COUNT = 100;
const QUANTIFIER = /^\{(\d{1,3})(,(\d{0,3}))?\}/;

const isDigit = (c: string) => c >= "0" && c <= "9";
const isWord = (c: string) => /^[A-Za-z0-9_]$/.test(c);
const isSpace = (c: string) => /^\s$/u.test(c);
const CLASS_ESCAPES: Readonly<Record<string, (c: string) => boolean>> = {
  d: isDigit,
  D: (c) => !isDigit(c),
  w: isWord,
  W: (c) => !isWord(c),
  s: isSpace,
  S: (c) => !isSpace(c),
};
const CONTROL_ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  r: "\r",
  t: "\t",
  f: "\f",
  v: "\v",
};

/** Parses `source`; throws on anything outside the dialect. */
export function parseRegex(source: string): RegexNode {
  const cs = [...source];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at position ${i + 1}`);
  };

  /** An escape after `\`: a class predicate or a literal character. */
  const escape = (): ((c: string) => boolean) | string => {
    const e = cs[i++];
    if (e === undefined) return fail("trailing backslash");
    const cls = CLASS_ESCAPES[e];
    if (cls) return cls;
    const ctl = CONTROL_ESCAPES[e];
    if (ctl !== undefined) return ctl;
    if (/^[A-Za-z0-9]$/.test(e)) return fail(`unsupported escape \\${e}`);
    return e;
  };

  const klass = (): RegexNode => {
    const negate = cs[i] === "^";
    if (negate) i++;
    const parts: ((c: string) => boolean)[] = [];
    const single = (): ((c: string) => boolean) | string => {
      const c = cs[i++];
      if (c === undefined) return fail("unterminated [class]");
      return c === "\\" ? escape() : c;
    };
    while (cs[i] !== "]") {
      if (i >= cs.length) fail("unterminated [class]");
      const lo = single();
      if (cs[i] === "-" && cs[i + 1] !== "]" && cs[i + 1] !== undefined) {
        i++;
        const hi = single();
        if (typeof lo !== "string" || typeof hi !== "string") fail("class escape in a range");
        const [a, b] = [lo as string, hi as string];
        if (a > b) fail(`range ${a}-${b} out of order`);
        parts.push((c) => c >= a && c <= b);
      } else parts.push(typeof lo === "string" ? (c) => c === lo : lo);
    }
    i++;
    return { t: "char", test: (c) => parts.some((p) => p(c)) !== negate };
  };

  const atom = (): RegexNode => {
    const c = cs[i++] as string;
    if (c === "(") {
      if (cs[i] === "?") {
        if (cs[i + 1] !== ":") fail("look-around and named groups are not supported");
        i += 2;
      }
      const inner = alternation();
      if (cs[i] !== ")") fail("missing )");
      i++;
      return inner;
    }
    if (c === "[") return klass();
    if (c === ".") return { t: "char", test: (ch) => ch !== "\n" && ch !== "\r" };
    if (c === "^") return { t: "bol" };
    if (c === "$") return { t: "eol" };
    if (c === "\\") {
      const e = escape();
      return { t: "char", test: typeof e === "string" ? (ch) => ch === e : e };
    }
    if (c === "*" || c === "+" || c === "?") return fail(`nothing to repeat before ${c}`);
    if (c === "{" && QUANTIFIER.test(cs.slice(i - 1).join(""))) return fail("nothing to repeat");
    return { t: "char", test: (ch) => ch === c };
  };

  const quantified = (x: RegexNode): RegexNode => {
    const c = cs[i];
    let min: number;
    let max: number;
    if (c === "*" || c === "+" || c === "?") {
      i++;
      [min, max] = c === "*" ? [0, -1] : c === "+" ? [1, -1] : [0, 1];
    } else if (c === "{" && QUANTIFIER.test(cs.slice(i).join(""))) {
      const m = QUANTIFIER.exec(cs.slice(i).join("")) as RegExpExecArray;
      i += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? -1 : Number(m[3]);
      if (min > MAX_COUNT || max > MAX_COUNT) fail(`counts above ${MAX_COUNT}`);
      if (max >= 0 && max < min) fail(`{${min},${max}} out of order`);
    } else return x;
    if (cs[i] === "?") i++;
    if (cs[i] === "*" || cs[i] === "+" || cs[i] === "?" || cs[i] === "{")
      if (cs[i] !== "{" || QUANTIFIER.test(cs.slice(i).join("")))
        fail("quantifier after quantifier");
    return { t: "rep", x, min, max };
  };

  const sequence = (): RegexNode => {
    const xs: RegexNode[] = [];
    while (i < cs.length && cs[i] !== "|" && cs[i] !== ")") xs.push(quantified(atom()));
    return xs.length === 1 ? (xs[0] as RegexNode) : { t: "cat", xs };
  };

  function alternation(): RegexNode {
    const xs = [sequence()];
    while (cs[i] === "|") {
      i++;
      xs.push(sequence());
    }
    return xs.length === 1 ? (xs[0] as RegexNode) : { t: "alt", xs };
  }

  const root = alternation();
  if (i < cs.length) fail("unmatched )");
  return root;
}
