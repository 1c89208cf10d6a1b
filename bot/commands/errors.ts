/**
 * Errors the bot reports to callers: each has a stable code and, where we can, a hint that
 * says how to fix the command.
 */
import { CommodoreError } from "../../lib/errors.ts";

/** The command text could not be tokenized or an argument is malformed. */
export class CommandSyntaxError extends CommodoreError {
  constructor(message: string, hint?: string) {
    super("E_SYNTAX", message, hint === undefined ? {} : { hint });
  }
}

/** No command has this name or alias. */
export class UnknownCommandError extends CommodoreError {
  constructor(name: string, suggestion: string | undefined) {
    super(
      "E_UNKNOWN_COMMAND",
      `unknown command "${name}"`,
      suggestion === undefined
        ? { hint: "say `help` for the commands you may run" }
        : { hint: `did you mean \`${suggestion}\`?` },
    );
  }
}

/** An argument is missing, has the wrong type or an unknown value. */
export class BadArgumentError extends CommodoreError {
  constructor(message: string, hint?: string) {
    super("E_BAD_ARGUMENT", message, hint === undefined ? {} : { hint });
  }
}

/** The caller may not run this command (or not with these arguments or targets). */
export class PermissionDeniedError extends CommodoreError {
  constructor(message: string, hint?: string) {
    super("E_PERMISSION_DENIED", message, hint === undefined ? {} : { hint });
  }
}

/** Something the command refers to does not exist (a job, a confirmation code). */
export class NotFoundError extends CommodoreError {
  constructor(message: string, hint?: string) {
    super("E_NOT_FOUND", message, hint === undefined ? {} : { hint });
  }
}
