/**
 * `log <name> [lines]`: the last lines of an allow-listed log file. Callers name a file from
 * the agent's configuration; a path never comes from the request, and a symbolic link (as the
 * file or in its directories) is never followed out of the allow-list: such a file is refused.
 */
import { errorMessage } from "../../../lib/errors.ts";
import type { ActionProvidersConfig, LogOptions } from "./action-options.ts";
import { EXIT_NOPERM, ProviderArgsError, type Provider } from "./provider.ts";
import { FileRefusedError, readTail } from "./tail.ts";

const USAGE = "log <name> [lines]";
const LOG_TIMEOUT_MS = 10_000;
/** Exit when the file cannot be read (sysexits EX_NOINPUT). */
export const EXIT_NOINPUT = 66;

/** Builds the provider over the configured files. */
export function logProvider(
  opts: LogOptions,
  common: Pick<ActionProvidersConfig, "maxOutputBytes">,
): Provider {
  return {
    name: "log",
    timeoutMs: LOG_TIMEOUT_MS,
    async run(args) {
      const [name, linesWord, ...rest] = args;
      const known = Object.keys(opts.files).sort().join(", ") || "none configured";
      if (name === undefined || rest.length > 0)
        throw new ProviderArgsError(
          "log",
          `takes a file name and an optional line count (known: ${known})`,
          USAGE,
        );
      const path = Object.hasOwn(opts.files, name) ? opts.files[name] : undefined;
      if (path === undefined)
        throw new ProviderArgsError(
          "log",
          `unknown log ${JSON.stringify(name.slice(0, 64))} (known: ${known})`,
          USAGE,
        );
      let lines = opts.defaultLines;
      if (linesWord !== undefined) {
        lines = /^\d{1,5}$/.test(linesWord) ? Number(linesWord) : 0;
        if (lines < 1 || lines > opts.maxLines)
          throw new ProviderArgsError(
            "log",
            `lines must be 1-${opts.maxLines}, got ${JSON.stringify(linesWord.slice(0, 16))}`,
            USAGE,
          );
      }
      try {
        const tail = await readTail(path, lines, common.maxOutputBytes);
        const last = tail.lines.at(-1) ?? "";
        return {
          exit: 0,
          short: `log ${name}: ${tail.lines.length} lines${tail.truncated ? " (truncated)" : ""}${last === "" ? "" : `, last: ${last.slice(0, 160)}`}`,
          name,
          lines: tail.lines,
          truncated: tail.truncated,
        };
      } catch (err) {
        if (err instanceof FileRefusedError)
          return { exit: EXIT_NOPERM, short: `log ${name}: refused: ${err.describe()}`, name };
        return {
          exit: EXIT_NOINPUT,
          short: `log ${name}: cannot read: ${errorMessage(err)}`,
          name,
        };
      }
    },
  };
}
