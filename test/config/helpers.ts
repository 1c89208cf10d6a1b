/**
 * Helpers of the configuration section tests: YAML files loaded from a temp dir, the problems
 * a ConfigError lists, and the commented-out sections of the example files.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../config/errors.ts";
import { loadConfig } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import { tempDir } from "../harness/tmp.ts";

/** A loader writing `text` to file `name` in a fresh temp dir and loading it with no env. */
export function configLoader(prefix: string): (name: string, text: string) => Config {
  const dir = tempDir(prefix);
  return (name, text) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return loadConfig({ file: path, env: {} });
  };
}

/** The `path: expected …, found …` lines of the ConfigError `f` throws (fails otherwise). */
export function problems(f: () => unknown): string[] {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`);
  }
  assert.fail("expected a ConfigError");
}

/** Removes "# " from the block that starts at the line `# <section>:` (up to a blank line). */
export function uncomment(text: string, section: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(`# ${section}:`);
  assert.ok(start >= 0, `the example has a commented ${section} section`);
  for (let i = start; i < lines.length && lines[i] !== ""; i++)
    lines[i] = (lines[i] ?? "").replace(/^# /, "");
  return lines.join("\n");
}
