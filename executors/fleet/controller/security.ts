/**
 * The controller's cryptography: its key signs requests; replies must be signed by the key
 * pinned for the replying hostname; registrations must be signed by the key they publish.
 * An interface so the benchmark can measure the same round trip without cryptography.
 */
import {
  pinnedKeyVerifier,
  sshsigSigner,
  type PayloadSigner,
  type PayloadVerifier,
} from "../protocol/auth.ts";
import {
  REGISTRATION_NAMESPACE,
  REPLY_NAMESPACE,
  REQUEST_NAMESPACE,
} from "../protocol/channels.ts";
import type { PrivateKeyInfo } from "../protocol/keys.ts";
import type { Rejection } from "../protocol/rejections.ts";
import { verifySshsig, verifySshsigAsync, type SigCheck } from "../protocol/sshsig.ts";

/** Everything the controller signs and verifies with. */
export interface ControllerSecurity {
  readonly requestSigner: PayloadSigner;
  /** Verifier for replies given a pin lookup (claimed identity = hostname). */
  replyVerifier(pinned: (hostname: string) => string | undefined): PayloadVerifier;
  /** Verifier for registrations (claimed identity = the published key line). */
  readonly registrationVerifier: PayloadVerifier;
}

function selfSigned(result: SigCheck, keyLine: string): Rejection | undefined {
  if (!result.ok) return { reason: result.reason, detail: result.detail };
  if (result.key.line !== keyLine)
    return {
      reason: "bad_signature",
      detail: "registration is not signed by the key it publishes",
    };
  return undefined;
}

/** SSHSIG security with the controller key. */
export function sshControllerSecurity(key: PrivateKeyInfo): ControllerSecurity {
  return {
    requestSigner: sshsigSigner(key, REQUEST_NAMESPACE),
    replyVerifier: (pinned) => pinnedKeyVerifier(pinned, REPLY_NAMESPACE),
    registrationVerifier: {
      verify: (payload, sig, keyLine) =>
        selfSigned(
          verifySshsig(Buffer.from(sig, "base64"), REGISTRATION_NAMESPACE, payload),
          keyLine,
        ),
      verifyAsync: async (payload, sig, keyLine) =>
        selfSigned(
          await verifySshsigAsync(Buffer.from(sig, "base64"), REGISTRATION_NAMESPACE, payload),
          keyLine,
        ),
    },
  };
}
