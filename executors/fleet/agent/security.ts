/**
 * The agent's cryptographic identity and trust: its host key signs replies and its
 * registration; allowed_signers decides which controllers it obeys. Kept behind one interface
 * so the benchmark can run the identical round trip without cryptography.
 */
import type { AllowedSigners } from "../protocol/allowed-signers.ts";
import {
  allowedSignersVerifier,
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

/** Everything the agent signs and verifies with. */
export interface AgentSecurity {
  /** The host key's public line (`type base64`), published in the registration. */
  readonly publicKey: string;
  /** `SHA256:…` fingerprint of the host key. */
  readonly fingerprint: string;
  readonly requestVerifier: PayloadVerifier;
  readonly replySigner: PayloadSigner;
  readonly registrationSigner: PayloadSigner;
}

/** SSHSIG security from a host key and an allowed_signers source (re-read through the getter). */
export function sshAgentSecurity(
  hostKey: PrivateKeyInfo,
  signers: () => AllowedSigners,
): AgentSecurity {
  return {
    publicKey: hostKey.public.line,
    fingerprint: hostKey.public.fingerprint,
    requestVerifier: allowedSignersVerifier(signers, REQUEST_NAMESPACE),
    replySigner: sshsigSigner(hostKey, REPLY_NAMESPACE),
    registrationSigner: sshsigSigner(hostKey, REGISTRATION_NAMESPACE),
  };
}
