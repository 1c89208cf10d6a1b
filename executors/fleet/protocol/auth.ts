/**
 * Who may sign what. Requests: the SSHSIG key must be listed in allowed_signers for the
 * claimed `sender` principal and the request namespace. Replies and registrations: the key must
 * be the one pinned for the claimed hostname. Both are interfaces so the benchmark can measure
 * the same round trip without cryptography.
 */
import type { AllowedSigners } from "./allowed-signers.ts";
import type { PrivateKeyInfo } from "./keys.ts";
import type { Rejection } from "./rejections.ts";
import { sshsigSignerFor, verifySshsig, verifySshsigAsync, type SigCheck } from "./sshsig.ts";

/** Produces the `sig` field for a payload. */
export interface PayloadSigner {
  sign(payload: string): string;
}

/** Checks a payload's `sig` for the identity the payload claims (principal or hostname). */
export interface PayloadVerifier {
  verify(payload: string, sig: string, claimed: string, now: number): Rejection | undefined;
  /**
   * The same checks with the public-key work handed to the verification threads
   * (protocol/verify-pool.ts) when enough checks are waiting. Optional: callers that want
   * parallelism fall back to `verify` when it is absent.
   */
  verifyAsync?(
    payload: string,
    sig: string,
    claimed: string,
    now: number,
  ): Promise<Rejection | undefined>;
}

/** Signs with an OpenSSH key in `namespace`. */
export function sshsigSigner(key: PrivateKeyInfo, namespace: string): PayloadSigner {
  const sign = sshsigSignerFor(key, namespace);
  return { sign: (payload) => sign(payload).toString("base64") };
}

function check(sig: string, namespace: string, payload: string) {
  return verifySshsig(Buffer.from(sig, "base64"), namespace, payload);
}

function checkAsync(sig: string, namespace: string, payload: string) {
  return verifySshsigAsync(Buffer.from(sig, "base64"), namespace, payload);
}

/** Accepts requests whose key allowed_signers lists for the claimed principal. */
export function allowedSignersVerifier(
  signers: () => AllowedSigners,
  namespace: string,
): PayloadVerifier {
  return {
    verify(payload, sig, principal, now) {
      const result = check(sig, namespace, payload);
      if (!result.ok) return { reason: result.reason, detail: result.detail };
      const refusal = signers().check(result.key.blob, principal, namespace, now);
      if (refusal === undefined) return undefined;
      return {
        reason: refusal,
        detail: `key ${result.key.fingerprint} may not sign as ${JSON.stringify(principal)}: ${refusal}`,
      };
    },
  };
}

/** Why a hostname with no accepted key may not answer. */
export type UnacceptedReason = (hostname: string) => Rejection;

const noKeyFor: UnacceptedReason = (hostname) => ({
  reason: "unpinned_key",
  detail: `no key is accepted for ${hostname}`,
});

function pinRefusal(
  result: SigCheck,
  hostname: string,
  pinned: (hostname: string) => string | undefined,
  unaccepted: UnacceptedReason,
): Rejection | undefined {
  if (!result.ok) return { reason: result.reason, detail: result.detail };
  const pin = pinned(hostname);
  if (pin === undefined) return unaccepted(hostname);
  if (pin !== result.key.line) {
    return {
      reason: "unpinned_key",
      detail: `${hostname} signed with ${result.key.fingerprint}, which is not its accepted key`,
    };
  }
  return undefined;
}

/**
 * Accepts replies whose key is the one accepted for the claimed hostname (`type base64` line);
 * `unaccepted` says why a hostname without an accepted key is refused (pending, rejected).
 */
export function pinnedKeyVerifier(
  pinned: (hostname: string) => string | undefined,
  namespace: string,
  unaccepted: UnacceptedReason = noKeyFor,
): PayloadVerifier {
  return {
    verify: (payload, sig, hostname) =>
      pinRefusal(check(sig, namespace, payload), hostname, pinned, unaccepted),
    verifyAsync: async (payload, sig, hostname) =>
      pinRefusal(await checkAsync(sig, namespace, payload), hostname, pinned, unaccepted),
  };
}
