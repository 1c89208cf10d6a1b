/**
 * How a signed payload travels: `{"payload": "<exact JSON text>", "sig": "<base64 SSHSIG>"}`.
 * The signature covers the payload string's UTF-8 bytes, and the very same string is what gets
 * parsed, so the bytes verified are the bytes acted on. Opening never throws: every failure
 * becomes a {@link Rejection}.
 */
import type { ZodType, ZodTypeDef } from "zod";
import type { PayloadSigner } from "./auth.ts";
import { PROTOCOL_VERSION } from "./messages.ts";
import type { Rejection } from "./rejections.ts";

/** Largest message (bytes) accepted from Redis. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** A decoded envelope whose payload matched its schema (signature NOT yet checked). */
export interface Opened<T> {
  readonly message: T;
  readonly payload: string;
  readonly sig: string;
}

/** Serialises and signs `payload`. */
export function sealEnvelope(payload: object, signer: PayloadSigner): string {
  const text = JSON.stringify(payload);
  return JSON.stringify({ payload: text, sig: signer.sign(text) });
}

function reject(reason: Rejection["reason"], detail: string): { ok: false; rejection: Rejection } {
  return { ok: false, rejection: { reason, detail } };
}

/**
 * Decodes an envelope and validates its payload against `schema`; a payload whose `protocol` is
 * not one of `versions` (default: only {@link PROTOCOL_VERSION}) is refused as
 * `unsupported_version` before the schema runs.
 */
export function openEnvelope<T>(
  raw: string | Buffer,
  schema: ZodType<T, ZodTypeDef, unknown>,
  versions: readonly number[] = [PROTOCOL_VERSION],
): { ok: true; opened: Opened<T> } | { ok: false; rejection: Rejection } {
  if (raw.length > MAX_MESSAGE_BYTES)
    return reject("oversize", `${raw.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  let outer: unknown;
  try {
    outer = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    return reject("malformed_json", "envelope is not JSON");
  }
  if (typeof outer !== "object" || outer === null)
    return reject("malformed_envelope", "envelope is not an object");
  const { payload, sig } = outer as { payload?: unknown; sig?: unknown };
  if (typeof payload !== "string" || typeof sig !== "string") {
    return reject("malformed_envelope", "envelope needs string fields payload and sig");
  }
  let inner: unknown;
  try {
    inner = JSON.parse(payload);
  } catch {
    return reject("malformed_json", "payload is not JSON");
  }
  const version = (inner as { protocol?: unknown } | null)?.protocol;
  if (typeof version !== "number" || !versions.includes(version)) {
    return reject(
      "unsupported_version",
      `protocol ${JSON.stringify(version)}, expected ${versions.join(" or ")}`,
    );
  }
  const parsed = schema.safeParse(inner);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(
      "malformed_payload",
      issue ? `${issue.path.join(".") || "payload"}: ${issue.message}` : "invalid payload",
    );
  }
  return { ok: true, opened: { message: parsed.data, payload, sig } };
}
