/**
 * Reads and validates JSON request bodies: malformed JSON and wrongly typed fields become
 * 400 errors that name the field, what was expected and what was found.
 */
import type { Context } from "hono";
import type { ZodType, ZodTypeDef } from "zod";
import { dottedPath, expectedFor, renderFound } from "../../config/issues.ts";
import { HttpError } from "./errors.ts";

/** Parses the body as JSON and validates it with `schema`. */
export async function readJson<T>(c: Context, schema: ZodType<T, ZodTypeDef, unknown>): Promise<T> {
  const text = await c.req.text();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new HttpError(
      "E_MALFORMED_JSON",
      `request body is not valid JSON: ${err instanceof Error ? err.message : "parse error"}`,
      'send a JSON object such as {"args": ["uptime"]}',
    );
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new HttpError("E_INVALID_FIELD", "body is invalid");
  const path = issue.path.length === 0 ? "body" : dottedPath(issue.path);
  if (issue.code === "unrecognized_keys")
    throw new HttpError(
      "E_INVALID_FIELD",
      `${path}: unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
    );
  throw new HttpError(
    "E_INVALID_FIELD",
    `${path}: expected ${expectedFor(issue, raw)}, found ${renderFound(raw, issue.path)}`,
  );
}
