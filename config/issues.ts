/**
 * Turns zod issues into {@link ConfigProblem}s: path, expected, found (redacted).
 */
import type { ZodIssue } from "zod";
import { redact } from "../lib/log.ts";
import { suggest } from "../lib/suggest.ts";
import type { ConfigProblem } from "./errors.ts";

/** zod's own messages; anything else was written in the schema as the expectation. */
const ZOD_DEFAULT_MESSAGE =
  /^(Array|String|Number|Set|Date|BigInt|Value|Invalid|Expected|Required|Unrecognized)\b/;
/** Longest rendering of a found value. */
const MAX_FOUND_LENGTH = 80;

/** `principals[2].http.tokenSha256` */
export function dottedPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let cur = raw;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

/** Renders a found value, redacting secret-looking keys and URL passwords. */
export function renderFound(raw: unknown, path: readonly (string | number)[]): string {
  const value = valueAt(raw, path);
  if (value === undefined) return "nothing";
  const last = path[path.length - 1];
  const safe = redact(typeof last === "string" ? { [last]: value } : { v: value }) as Record<
    string,
    unknown
  >;
  const shown = Object.values(safe)[0];
  const text = value === null ? "null" : (JSON.stringify(shown) ?? String(shown));
  const kind = Array.isArray(value)
    ? value.length === 0
      ? "an empty list"
      : `a list of ${value.length}`
    : value === null
      ? "null"
      : `a ${typeof value}`;
  const short = text.length > MAX_FOUND_LENGTH ? `${text.slice(0, MAX_FOUND_LENGTH)}…` : text;
  return typeof value === "object" ? kind : `${short} (${kind})`;
}

/**
 * Sections composed from transport schemas phrase messages as rules ("must be a valid IRC
 * nickname", "expected one lowercase word"); rephrase them as what was expected.
 */
export function asExpectation(message: string): string {
  return message
    .replace(/^expected /, "")
    .replace(/^must be /, "")
    .replace(/^must look like /, "something like ")
    .replace(/^must not /, "a value that does not ");
}

/** What an issue expected, phrased for a human (`a string`, `one of a, b`). */
export function expectedFor(issue: ZodIssue, raw: unknown): string {
  if (issue.code !== "invalid_type" && !ZOD_DEFAULT_MESSAGE.test(issue.message))
    return asExpectation(issue.message);
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "array"
        ? "a list"
        : issue.expected === "object"
          ? "a mapping"
          : `a ${issue.expected}`;
    case "too_small":
      return issue.type === "number"
        ? `a number >= ${String(issue.minimum)}`
        : `at least ${String(issue.minimum)} ${issue.type === "array" ? "items" : "characters"}`;
    case "too_big":
      return issue.type === "number"
        ? `a number <= ${String(issue.maximum)}`
        : `at most ${String(issue.maximum)} ${issue.type === "array" ? "items" : "characters"}`;
    case "invalid_enum_value": {
      const near = suggest(String(valueAt(raw, issue.path)), issue.options.map(String));
      const options = `one of ${issue.options.join(", ")}`;
      return near === undefined ? options : `${options} (did you mean ${near}?)`;
    }
    case "invalid_union":
      return "a string or a list of strings";
    default:
      return issue.message;
  }
}

/** Known keys of the object at `path` in the schema are unknown here; suggest by spelling. */
function unknownKeyProblems(
  issue: Extract<ZodIssue, { code: "unrecognized_keys" }>,
  known: (path: readonly (string | number)[]) => readonly string[],
): ConfigProblem[] {
  const candidates = known(issue.path);
  return issue.keys.map((key) => {
    const near = suggest(key, candidates);
    return {
      path: dottedPath([...issue.path, key]),
      expected:
        `one of ${candidates.join(", ")}` + (near === undefined ? "" : ` (did you mean ${near}?)`),
      found: `unknown key "${key}"`,
    };
  });
}

/** Converts issues to problems; `known` lists the valid keys of an object path. */
export function issuesToProblems(
  issues: readonly ZodIssue[],
  raw: unknown,
  known: (path: readonly (string | number)[]) => readonly string[],
): ConfigProblem[] {
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? unknownKeyProblems(issue, known)
      : [
          {
            path: dottedPath(issue.path),
            expected: expectedFor(issue, raw),
            found: renderFound(raw, issue.path),
          },
        ],
  );
}
