/**
 * `commodore` command-line entry: dispatches to a subcommand and maps errors to exit codes.
 */
import { CancelRequest } from "../executors/executor.ts";
import { CommodoreError, errorMessage } from "../lib/errors.ts";
import { suggest } from "../lib/suggest.ts";
import type { CliIo } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { CliError, EXIT_CONFIG, UnknownCommandError } from "./errors.ts";

/** Exit code for an unexpected internal failure. */
const EXIT_SOFTWARE = 70;

function helpText(): string {
  const lines = ["Usage: commodore <command> [options]", "", "Commands:"];
  for (const [name, entry] of Object.entries(COMMANDS).sort(([a], [b]) => a.localeCompare(b)))
    lines.push(`  ${name.padEnd(16)} ${entry.summary}`);
  lines.push(
    "",
    "Run `commodore <command> --help` for a command's options; `commodore --version` for the version.",
  );
  return lines.join("\n") + "\n";
}

function defaultIo(): CliIo {
  const controller = new AbortController();
  // Ctrl-C is the operator cancelling: agents are told to stop the provider. SIGTERM (a service
  // manager) only stops waiting. A second Ctrl-C kills the CLI at once.
  process.once("SIGINT", () => controller.abort(new CancelRequest(process.env["USER"] ?? "cli")));
  process.once("SIGTERM", () => controller.abort());
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    signal: controller.signal,
    stderrIsTty: process.stderr.isTTY === true,
  };
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout(helpText());
    return 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    const { COMMODORE_VERSION } = await import("../lib/version.ts");
    io.stdout(`commodore ${COMMODORE_VERSION}\n`);
    return 0;
  }
  try {
    const entry = COMMANDS[name];
    if (!entry) throw new UnknownCommandError(name, suggest(name, Object.keys(COMMANDS)));
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout(command.usage.endsWith("\n") ? command.usage : command.usage + "\n");
      return 0;
    }
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`commodore: ${err.describe()} [${err.code}]\n`);
      return err.exitCode;
    }
    if (err instanceof CommodoreError) {
      io.stderr(`commodore: ${err.describe()} [${err.code}]\n`);
      return err.code === "E_CONFIG_INVALID" ? EXIT_CONFIG : 1;
    }
    io.stderr(`commodore: internal error: ${errorMessage(err)}\n`);
    return EXIT_SOFTWARE;
  }
}
