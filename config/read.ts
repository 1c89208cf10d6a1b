/**
 * Reads a configuration file against a schema: parses the YAML (with line numbers), applies
 * the environment overrides, validates, and reports every problem with its path, the variable
 * or line it came from, and did-you-mean suggestions. config/load.ts reads the whole file for
 * the bot; config/agent.ts reads only what an agent needs, without loading the bot's schemas.
 */
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, type Document } from "yaml";
import {
  ZodObject,
  ZodEffects,
  ZodDefault,
  ZodOptional,
  ZodRecord,
  ZodArray,
  type ZodType,
  type ZodTypeAny,
  type ZodTypeDef,
} from "zod";
import { applyEnvOverrides } from "./env.ts";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import { issuesToProblems } from "./issues.ts";

/**
 * The yaml package's `maxAliasCount`, named: how far aliases may expand before a document is
 * refused as a resource-exhaustion attack ("billion laughs": nine lines of nested aliases
 * would otherwise expand to a billion nodes).
 */
export const MAX_YAML_ALIAS_COUNT = 100;
/** The yaml package's message when a document passes maxAliasCount. */
const EXCESSIVE_ALIASES = /^Excessive alias count/;

/** Where configuration comes from. */
export interface LoadOptions {
  /** YAML file; absent means defaults plus environment only. */
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Raw document used when no file is given (e.g. the embedded default). */
  readonly defaults?: Record<string, unknown>;
}

function unwrap(t: ZodTypeAny): ZodTypeAny {
  if (t instanceof ZodEffects) return unwrap(t.innerType() as ZodTypeAny);
  if (t instanceof ZodDefault || t instanceof ZodOptional)
    return unwrap(t._def.innerType as ZodTypeAny);
  return t;
}

/** The keys `schema` allows at an object path (for did-you-mean on unknown keys). */
function knownKeysOf(schema: ZodTypeAny, path: readonly (string | number)[]): readonly string[] {
  let t = unwrap(schema);
  for (const key of path) {
    if (t instanceof ZodObject)
      t = unwrap((t.shape as Record<string, ZodTypeAny>)[String(key)] ?? t);
    else if (t instanceof ZodArray) t = unwrap(t.element as ZodTypeAny);
    else if (t instanceof ZodRecord) t = unwrap(t.valueSchema as ZodTypeAny);
  }
  return t instanceof ZodObject ? Object.keys(t.shape as object) : [];
}

function parseYaml(
  text: string,
  file: string,
): { raw: unknown; doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = lines.linePos(first.pos[0]).line;
    throw new ConfigError(
      [
        {
          path: "(file)",
          expected: "valid YAML",
          found: first.message.split("\n")[0] ?? "a syntax error",
          line,
        },
      ],
      file,
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (err) {
    // The yaml package refuses an alias expansion past maxAliasCount (a "billion laughs" file),
    // or an alias it cannot resolve, with a ReferenceError: either is the file's fault.
    const message = (err as Error).message;
    const bomb = EXCESSIVE_ALIASES.test(message);
    throw new ConfigError(
      [
        {
          path: "(file)",
          expected: bomb
            ? `YAML with at most ${MAX_YAML_ALIAS_COUNT} alias expansions`
            : "YAML whose aliases resolve",
          found: bomb
            ? "aliases that expand further (an alias bomb)"
            : (message.split("\n")[0] ?? ""),
        },
      ],
      file,
    );
  }
  return { raw: raw ?? {}, doc, lines };
}

function lineOf(doc: Document, lines: LineCounter, path: string): number | undefined {
  const parts = path
    .split(/\.|\[|\]/)
    .filter((p) => p !== "")
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  for (let n = parts.length; n > 0; n--) {
    const node = doc.getIn(parts.slice(0, n), true) as
      { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * Checks of a valid configuration against the world (files, environment) that the schema
 * cannot make; each problem's `path` gets the line it is written on.
 */
export type ConfigVerifier<T> = (config: T) => readonly ConfigProblem[];

/**
 * Reads and validates configuration against `schema`, then runs `verify` on the result; throws
 * a ConfigError listing every problem.
 */
export function readConfig<T>(
  schema: ZodType<T, ZodTypeDef, unknown>,
  options: LoadOptions = {},
  verify?: ConfigVerifier<T>,
): T {
  const env = options.env ?? process.env;
  let raw: unknown = structuredClone(options.defaults ?? {});
  let located: { doc: Document; lines: LineCounter } | undefined;
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "an unreadable file";
      throw new ConfigError(
        [{ path: "(file)", expected: "a readable YAML file", found: code }],
        options.file,
      );
    }
    const parsed = parseYaml(text, options.file);
    raw = parsed.raw;
    located = parsed;
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(
      [
        {
          path: "(top level)",
          expected: "a mapping of sections",
          found: Array.isArray(raw) ? "a list" : typeof raw,
        },
      ],
      options.file,
    );
  const fromEnv = applyEnvOverrides(raw as Record<string, unknown>, env);
  const locate = (p: ConfigProblem): ConfigProblem => {
    const envName = fromEnv.get(p.path);
    const line =
      envName === undefined && located ? lineOf(located.doc, located.lines, p.path) : undefined;
    return {
      ...p,
      ...(envName === undefined ? {} : { fromEnv: envName }),
      ...(line === undefined ? {} : { line }),
    };
  };
  const result = schema.safeParse(raw);
  const known = (path: readonly (string | number)[]) => knownKeysOf(schema as ZodTypeAny, path);
  const problems: ConfigProblem[] = (
    result.success
      ? (verify?.(result.data) ?? [])
      : issuesToProblems(result.error.issues, raw, known)
  ).map(locate);
  if (result.success && problems.length === 0) return result.data;
  problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  throw new ConfigError(problems, options.file);
}
