/**
 * The agent's gate: every raw message on the request channel either becomes an admitted
 * request or a {@link Rejection}. Order: decode and validate, check the signature and the
 * signer's principal, check the validity window (±clock skew), then the replay cache. Replay
 * is checked last so unsigned garbage cannot fill the cache.
 */
import type { PayloadVerifier } from "../protocol/auth.ts";
import { openEnvelope } from "../protocol/envelope.ts";
import { controlSchema, type ControlMessage } from "../protocol/messages.ts";
import type { Rejection } from "../protocol/rejections.ts";
import type { ReplayCache } from "../protocol/replay-cache.ts";

/** Time rules for admission. */
export interface AdmissionPolicy {
  readonly maxTtlMs: number;
  readonly clockSkewMs: number;
}

/** Outcome of {@link admitRequest}: a request or a cancel, signed, fresh and unseen. */
export type Admission =
  | { readonly ok: true; readonly message: ControlMessage }
  | { readonly ok: false; readonly rejection: Rejection };

function no(reason: Rejection["reason"], detail: string): Admission {
  return { ok: false, rejection: { reason, detail } };
}

/** Decides whether to act on one raw message of the request channel (a request or a cancel). */
export function admitRequest(
  raw: string | Buffer,
  verifier: PayloadVerifier,
  replay: ReplayCache,
  policy: AdmissionPolicy,
  now: number,
): Admission {
  const opened = openEnvelope(raw, controlSchema);
  if (!opened.ok) return { ok: false, rejection: opened.rejection };
  const { message: req, payload, sig } = opened.opened;
  const refused = verifier.verify(payload, sig, req.sender, now);
  if (refused) return { ok: false, rejection: refused };
  if (req.expires_at < req.issued_at)
    return no("malformed_payload", "expires_at is before issued_at");
  if (req.expires_at - req.issued_at > policy.maxTtlMs) {
    return no(
      "ttl_too_long",
      `request claims ${req.expires_at - req.issued_at} ms validity, limit is ${policy.maxTtlMs} ms`,
    );
  }
  if (now > req.expires_at + policy.clockSkewMs)
    return no("expired", `${req.type} ${req.id} expired ${now - req.expires_at} ms ago`);
  if (req.issued_at > now + policy.clockSkewMs) {
    return no(
      "not_yet_valid",
      `${req.type} ${req.id} is issued ${req.issued_at - now} ms in the future`,
    );
  }
  const admitted = replay.admit(req.id, req.expires_at + policy.clockSkewMs, now);
  if (admitted === "replay") return no("replay", `${req.type} ${req.id} was already seen`);
  if (admitted === "full")
    return no("replay_cache_full", "too many live request ids; refusing until some expire");
  return { ok: true, message: req };
}
