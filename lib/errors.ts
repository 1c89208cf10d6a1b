/**
 * Typed errors shared by every part of Commodore.
 *
 * Every error carries a stable `code` (machine-readable, safe to show to a client) and an
 * optional `hint` that tells the reader how to fix the problem. Messages never contain
 * secrets: callers pass redacted values only.
 */
import type { ErrorCode } from "./error-codes.ts";
export class CommodoreError extends Error {
  /** Stable, machine-readable code such as `E_CONFIG_INVALID` (lib/error-codes.ts). */
  readonly code: ErrorCode;
  /** How to fix the problem, when we know. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }

  /** The message followed by the hint, for humans. */
  describe(): string {
    return this.hint === undefined ? this.message : `${this.message} (${this.hint})`;
  }
}

/** Thrown when an options object or configuration value is misused at construction time. */
export class OptionsError extends CommodoreError {
  constructor(message: string, hint?: string) {
    super("E_OPTIONS", message, hint === undefined ? {} : { hint });
  }
}

/** Returns a printable message for any thrown value without leaking stack traces to clients. */
export function errorMessage(err: unknown): string {
  if (err instanceof CommodoreError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
