/**
 * The shape of one `commodore <subcommand>` and the flag parser they share.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { InvalidArgumentError, MissingArgumentError, UnknownFlagError } from "./errors.ts";

/** Streams and environment a subcommand may use; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM for long-running subcommands. */
  readonly signal: AbortSignal;
  /** Whether stderr is a terminal (live status lines go there); false when unknown. */
  readonly stderrIsTty?: boolean;
}

/** One subcommand. */
export interface CliCommand {
  readonly name: string;
  /** Full usage text for `commodore <name> --help`. */
  readonly usage: string;
  /** Runs the subcommand and returns the process exit code. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses flags with node:util, turning its generic errors into typed CLI errors that name
 * the flag and say how to get help.
 */
export function parseFlags<O extends Options>(
  command: string,
  argv: readonly string[],
  options: O,
) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = err instanceof Error ? err.message : String(err);
    const flag = /'(-{1,2}[^'\s]+)/.exec(message)?.[1] ?? message;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UnknownFlagError(command, flag);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new InvalidArgumentError(command, flag, "given a value", "");
    }
    throw new MissingArgumentError(command, message);
  }
}
