/**
 * The one check of a signed registration, wherever one comes from: an announcement on the
 * registrations channel (registrar.ts), a registry entry (registry-reader.ts) or a last-known
 * entry (last-known.ts). Opening (envelope, schema, key) is separate from verifying the
 * signature, so callers can spend budgets and freshness checks between the two.
 */
import type { PayloadVerifier } from "../protocol/auth.ts";
import { openEnvelope } from "../protocol/envelope.ts";
import { parsePublicKeyLine } from "../protocol/keys.ts";
import {
  SUPPORTED_PROTOCOLS,
  registrationSchema,
  type RegistrationMessage,
} from "../protocol/messages.ts";
import type { Rejection } from "../protocol/rejections.ts";
import type { NodeInfo } from "../types.ts";
import type { Candidate, EnrollmentDecision } from "./enrollment.ts";

/** Freshness limits for registrations. */
export interface FreshnessOptions {
  /** Clock difference tolerated between agents and the controller. */
  readonly clockSkewMs: number;
  /** Cap on the `ttl_ms` a registration may claim. */
  readonly maxRegistrationTtlMs: number;
}

/** A registration whose envelope, schema and key parsed (signature NOT yet checked). */
export interface OpenedRegistration {
  readonly reg: RegistrationMessage;
  readonly payload: string;
  readonly sig: string;
  /** The registration's hostname and key, as the enrollment decides on them. */
  readonly candidate: Candidate;
}

/** Opens `raw` as a registration, or says why it is not one. */
export function openRegistration(
  raw: string,
):
  | { readonly ok: true; readonly opened: OpenedRegistration }
  | { readonly ok: false; readonly rejection: Rejection } {
  const opened = openEnvelope(raw, registrationSchema, SUPPORTED_PROTOCOLS);
  if (!opened.ok) return opened;
  const { message: reg, payload, sig } = opened.opened;
  let key: { line: string; fingerprint: string };
  try {
    key = parsePublicKeyLine(reg.public_key);
  } catch (err) {
    return {
      ok: false,
      rejection: { reason: "malformed_payload", detail: `public_key: ${(err as Error).message}` },
    };
  }
  const candidate: Candidate = {
    hostname: reg.hostname,
    keyLine: key.line,
    fingerprint: key.fingerprint,
    ...(reg.certificate === undefined ? {} : { certificate: reg.certificate }),
  };
  return { ok: true, opened: { reg, payload, sig, candidate } };
}

/** Why `opened`'s signature does not verify with the key it publishes, if it does not. */
export async function verifyRegistration(
  opened: OpenedRegistration,
  verifier: PayloadVerifier,
  now: number,
): Promise<Rejection | undefined> {
  const { payload, sig, candidate } = opened;
  return verifier.verifyAsync
    ? await verifier.verifyAsync(payload, sig, candidate.keyLine, now)
    : verifier.verify(payload, sig, candidate.keyLine, now);
}

/**
 * Why `reg` is not fresh at `now`: older than its own `ttl_ms` (capped) plus the clock skew,
 * or dated in the future by more than the skew — so an old signed registration cannot be
 * replayed.
 */
export function freshnessRefusal(
  reg: RegistrationMessage,
  now: number,
  { clockSkewMs, maxRegistrationTtlMs }: FreshnessOptions,
): Rejection | undefined {
  const ttl = Math.min(reg.ttl_ms, maxRegistrationTtlMs);
  if (reg.sent_at > now + clockSkewMs)
    return {
      reason: "stale_registration",
      detail: `registration of ${reg.hostname} is dated ${reg.sent_at - now} ms in the future`,
    };
  if (now - reg.sent_at > ttl + clockSkewMs)
    return {
      reason: "stale_registration",
      detail: `registration of ${reg.hostname} was signed ${now - reg.sent_at} ms ago, more than its ${ttl} ms lifetime`,
    };
  return undefined;
}

/** The node a verified registration lists under an enrollment decision. */
export function registrationNode(
  reg: RegistrationMessage,
  candidate: Candidate,
  decision: EnrollmentDecision,
): NodeInfo {
  return {
    hostname: candidate.hostname,
    facts: reg.facts,
    fingerprint: candidate.fingerprint,
    publicKey: candidate.keyLine,
    version: reg.version,
    lastSeen: new Date(reg.sent_at).toISOString(),
    state: decision.state,
    ...(decision.via === undefined ? {} : { via: decision.via }),
    ...(decision.keyChanged === true ? { keyChanged: true } : {}),
    ...(decision.detail === undefined ? {} : { detail: decision.detail }),
  };
}
