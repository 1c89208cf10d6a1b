/**
 * JSON routes only read JSON bodies: a request that carries a body (POST, PUT, PATCH) must say
 * `Content-Type: application/json` (optionally `; charset=utf-8`). Browsers send `text/plain`,
 * `application/x-www-form-urlencoded` and `multipart/form-data` cross-site without asking
 * first (a "simple request"), so refusing them with 415 keeps any web page the operator opens
 * from running commands; a cross-site JSON request needs a CORS preflight this server never
 * grants.
 */
import type { MiddlewareHandler } from "hono";
import type { Counter } from "../../lib/metrics.ts";
import { sendError } from "./errors.ts";

/** Methods whose requests carry a body. */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
/** `application/json`, optionally with a UTF-8 charset parameter. */
const JSON_MEDIA_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
/** Longest header value repeated in an error message. */
const MAX_SHOWN = 100;

/** Answers 415 `E_UNSUPPORTED_MEDIA_TYPE` to body-carrying requests that are not JSON. */
export function requireJson(rejected: Counter): MiddlewareHandler {
  return async (c, next) => {
    if (!BODY_METHODS.has(c.req.method)) return next();
    const type = c.req.header("content-type");
    if (type !== undefined && JSON_MEDIA_TYPE.test(type.trim())) return next();
    rejected.inc({ reason: "media_type" });
    return sendError(
      c,
      "E_UNSUPPORTED_MEDIA_TYPE",
      `Content-Type must be application/json, found ${
        type === undefined ? "no Content-Type header" : JSON.stringify(type.slice(0, MAX_SHOWN))
      }`,
      "send the body as JSON with the header Content-Type: application/json",
    );
  };
}
