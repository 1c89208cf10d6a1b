/**
 * CLI parse and usage errors, one class per failure, each with a code and a suggestion.
 */
import type { ErrorCode } from "../lib/error-codes.ts";
import { CommodoreError } from "../lib/errors.ts";

/** Exit code for usage errors (as sysexits EX_USAGE). */
export const EXIT_USAGE = 64;
/** Exit code for configuration errors (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;
/** Exit code when a service (Redis) is unavailable (sysexits EX_UNAVAILABLE). */
export const EXIT_UNAVAILABLE = 69;

/** Base of all CLI errors: carries the process exit code to use. */
export class CliError extends CommodoreError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly exitCode: number,
    hint?: string,
  ) {
    super(code, message, hint === undefined ? {} : { hint });
  }
}

/** The subcommand does not exist. */
export class UnknownCommandError extends CliError {
  constructor(name: string, suggestion: string | undefined) {
    super(
      "E_CLI_UNKNOWN_COMMAND",
      `unknown command "${name}"`,
      EXIT_USAGE,
      suggestion === undefined
        ? "run `commodore help` for the list"
        : `did you mean \`commodore ${suggestion}\`?`,
    );
  }
}

/** A flag is not known to the subcommand. */
export class UnknownFlagError extends CliError {
  constructor(command: string, flag: string) {
    super(
      "E_CLI_UNKNOWN_FLAG",
      `unknown flag ${flag} for "${command}"`,
      EXIT_USAGE,
      `run \`commodore ${command} --help\``,
    );
  }
}

/** A flag or positional argument has an invalid value. */
export class InvalidArgumentError extends CliError {
  constructor(command: string, what: string, expected: string, found: string) {
    super(
      "E_CLI_INVALID_ARGUMENT",
      `${what} for "${command}" must be ${expected}, got ${JSON.stringify(found)}`,
      EXIT_USAGE,
      `run \`commodore ${command} --help\``,
    );
  }
}

/** A required positional argument is missing. */
export class MissingArgumentError extends CliError {
  constructor(command: string, what: string) {
    super(
      "E_CLI_MISSING_ARGUMENT",
      `missing ${what} for "${command}"`,
      EXIT_USAGE,
      `run \`commodore ${command} --help\``,
    );
  }
}
