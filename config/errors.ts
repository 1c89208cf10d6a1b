/**
 * Configuration errors: every problem names the path, what was expected and what was found.
 */
import { CommodoreError } from "../lib/errors.ts";

/** One problem in a configuration file. */
export interface ConfigProblem {
  /** Dotted path such as `principals[2].http.tokenSha256`. */
  readonly path: string;
  readonly expected: string;
  /** The value found, shortened and with secrets redacted. */
  readonly found: string;
  /** 1-based line in the file, when known. */
  readonly line?: number;
  /** Environment variable the value came from, when it did. */
  readonly fromEnv?: string;
}

/** Renders one problem as a line. */
export function problemLine(p: ConfigProblem, file?: string): string {
  const where = file === undefined ? "" : `${file}${p.line === undefined ? "" : `:${p.line}`}: `;
  const env = p.fromEnv === undefined ? "" : ` (from ${p.fromEnv})`;
  return `${where}${p.path}${env}: expected ${p.expected}, found ${p.found}`;
}

/** The configuration file is unreadable or invalid. */
export class ConfigError extends CommodoreError {
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly file?: string,
  ) {
    super(
      "E_CONFIG_INVALID",
      `invalid configuration${file === undefined ? "" : ` in ${file}`}:\n` +
        problems.map((p) => `  ${problemLine(p, file)}`).join("\n"),
      { hint: "see config/commodore.example.yaml for every setting" },
    );
  }
}
