/**
 * The Commodore version agents publish in their registration and `commodore --version` prints:
 * the `version` of the package.json of the nearest enclosing `commodore` package, which is
 * one folder up from the sources and two from the compiled `dist/`.
 */
import { readFileSync } from "node:fs";

/** How many folders up from this file a package.json is looked for. */
const MAX_LEVELS = 4;

function readVersion(): string {
  for (let up = 1; up <= MAX_LEVELS; up++) {
    try {
      const url = new URL(`${"../".repeat(up)}package.json`, import.meta.url);
      const pkg = JSON.parse(readFileSync(url, "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "commodore" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not at this level
    }
  }
  return "unknown";
}

/** Version string from package.json. */
export const COMMODORE_VERSION = readVersion();
