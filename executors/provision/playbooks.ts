/**
 * Choosing a playbook: by name only, from the configured directory, never from a path.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { PlaybookNotFoundError } from "./errors.ts";
import { PLAYBOOK_NAME } from "./options.ts";

const EXTENSIONS = [".yml", ".yaml"] as const;

/** Checks a playbook name's syntax; throws PlaybookNotFoundError for paths and odd names. */
export function checkPlaybookName(name: string): void {
  if (name.includes("/") || name.includes("\\") || name.includes("..")) {
    throw new PlaybookNotFoundError(name, "looks like a path; give a bare name");
  }
  if (!PLAYBOOK_NAME.test(name) || name.startsWith(".")) {
    throw new PlaybookNotFoundError(name, "is not a valid name (letters, digits, _ . - only)");
  }
}

/**
 * Resolves `name` to `<playbookDir>/<name>.yml` or `.yaml` and confirms that the real path
 * (symlinks followed) is a file inside the real playbook directory.
 */
export function resolvePlaybook(playbookDir: string, name: string): string {
  checkPlaybookName(name);
  let root: string;
  try {
    root = realpathSync(playbookDir);
  } catch {
    throw new PlaybookNotFoundError(
      name,
      `cannot be looked up: playbookDir ${playbookDir} is missing`,
    );
  }
  for (const ext of EXTENSIONS) {
    const candidate = join(root, `${name}${ext}`);
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    if (!real.startsWith(root + sep) || !statSync(real).isFile()) {
      throw new PlaybookNotFoundError(name, "resolves outside the playbook directory");
    }
    return real;
  }
  throw new PlaybookNotFoundError(
    name,
    `is not in ${root} (looked for ${name}.yml and ${name}.yaml)`,
  );
}

/** Where playbook choices come from when a request names none. */
export interface PlaybookDefaults {
  readonly defaultPlaybook?: string | undefined;
  readonly firstBoot: { readonly factKey: string; readonly map: Readonly<Record<string, string>> };
}

/** The playbook the host's facts map to (e.g. role=web → `web`), if any. */
export function playbookForFacts(
  defaults: PlaybookDefaults,
  facts: Readonly<Record<string, unknown>>,
): string | undefined {
  const value = facts[defaults.firstBoot.factKey];
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const mapped = defaults.firstBoot.map[String(value)];
  return mapped;
}

/** Requested playbook, else the facts mapping, else the default; undefined when none applies. */
export function choosePlaybook(
  defaults: PlaybookDefaults,
  requested: string | undefined,
  facts: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  if (requested !== undefined) return requested;
  const fromFacts = facts === undefined ? undefined : playbookForFacts(defaults, facts);
  return fromFacts ?? defaults.defaultPlaybook;
}
