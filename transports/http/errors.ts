/**
 * JSON errors with stable codes: `{"error": {"code", "message", "hint"?}}`.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error the HTTP layer answers with a given status. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
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

/** Sends an error response. */
export function sendError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  hint?: string,
) {
  return c.json(errorBody(code, message, hint), status);
}

/** HTTP status for a bot error code. */
export function statusForCode(code: string): ContentfulStatusCode {
  switch (code) {
    case "E_PERMISSION_DENIED":
    case "E_CONFIRM_SAME_PERSON":
      return 403;
    case "E_NOT_FOUND":
    case "E_CONFIRM_UNKNOWN":
    case "E_NODE_NOT_REGISTERED":
      return 404;
    case "E_NODE_FINGERPRINT":
    case "E_NODE_STATE":
    case "E_CONFIRM_TAMPERED":
    case "E_CONFIRM_REPLAYED":
      return 409;
    case "E_SYNTAX":
    case "E_UNKNOWN_COMMAND":
    case "E_BAD_ARGUMENT":
      return 400;
    case "E_FLEET_UNAVAILABLE":
      return 503;
    default:
      return 500;
  }
}
