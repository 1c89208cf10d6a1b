/**
 * JSON errors with stable codes: `{"error": {"code", "message", "hint"?}}`.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { httpStatusOf, type ErrorCode } from "../../lib/error-codes.ts";

/** An error the HTTP layer answers with its code's status. */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The JSON body of an error. */
export function errorBody(code: string, message: string, hint?: string) {
  return { error: hint === undefined ? { code, message } : { code, message, hint } };
}

/** Sends an error response with the status the catalogue gives `code`. */
export function sendError(c: Context, code: ErrorCode, message: string, hint?: string) {
  return c.json(errorBody(code, message, hint), statusForCode(code));
}

/** HTTP status for an error code, from the one catalogue (lib/error-codes.ts). */
export function statusForCode(code: string): ContentfulStatusCode {
  return httpStatusOf(code) as ContentfulStatusCode;
}
