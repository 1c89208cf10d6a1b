/**
 * The controller's cryptography: its key signs requests; replies must be signed by the key
 * pinned for the replying hostname; registrations must be signed by the key they publish.
 * An interface so the benchmark can measure the same round trip without cryptography.
 * Besides the default key, requests may be signed by named identities (a key and the principal
 * it signs as), chosen per request by name.
 */
import { readBoundedFile } from "../../../lib/bounded-file.ts";
import { OptionsError } from "../../../lib/errors.ts";
import type { RequestSignerConfig } from "../options.ts";
import {
  pinnedKeyVerifier,
  sshsigSigner,
  type UnacceptedReason,
  type PayloadSigner,
  type PayloadVerifier,
} from "../protocol/auth.ts";
import type { AllowedSigners } from "../protocol/allowed-signers.ts";
import {
  ENROLLMENT_NAMESPACE,
  REGISTRATION_NAMESPACE,
  REPLY_NAMESPACE,
  REQUEST_NAMESPACE,
} from "../protocol/channels.ts";
import {
  checkKeyPermissions,
  KeyError,
  MAX_PRIVATE_KEY_BYTES,
  parsePrivateKey,
  UnprotectedKeyError,
  type PrivateKeyInfo,
} from "../protocol/keys.ts";
import type { Rejection } from "../protocol/rejections.ts";
import { verifySshsig, verifySshsigAsync, type SigCheck } from "../protocol/sshsig.ts";

/** Everything the controller signs and verifies with. */
export interface ControllerSecurity {
  readonly requestSigner: PayloadSigner;
  /**
   * Verifier for replies given the accepted-key lookup (claimed identity = hostname) and the
   * reason a hostname without an accepted key is refused.
   */
  replyVerifier(
    pinned: (hostname: string) => string | undefined,
    unaccepted?: UnacceptedReason,
  ): PayloadVerifier;
  /** Verifier for registrations (claimed identity = the published key line). */
  readonly registrationVerifier: PayloadVerifier;
  /** Signs enrollment records (accepted and rejected host keys) with the controller key. */
  readonly enrollmentSigner: PayloadSigner;
  /** Verifier for enrollment records (claimed identity = the record's `signer` principal). */
  readonly enrollmentVerifier: PayloadVerifier;
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

/**
 * Enrollment records are believed when signed in the enrollment namespace by the controller's
 * own key, or by a key `extra` lists for the record's signer principal and that namespace.
 */
function enrollmentVerifier(
  own: PrivateKeyInfo,
  extra: AllowedSigners | undefined,
): PayloadVerifier {
  const check = (result: SigCheck, principal: string, now: number): Rejection | undefined => {
    if (!result.ok) return { reason: result.reason, detail: result.detail };
    if (result.key.line === own.public.line) return undefined;
    const refusal =
      extra === undefined
        ? "unknown_signer"
        : extra.check(result.key.blob, principal, ENROLLMENT_NAMESPACE, now);
    return refusal === undefined
      ? undefined
      : {
          reason: refusal,
          detail: `key ${result.key.fingerprint} may not sign enrollment records`,
        };
  };
  return {
    verify: (payload, sig, principal, now) =>
      check(
        verifySshsig(Buffer.from(sig, "base64"), ENROLLMENT_NAMESPACE, payload),
        principal,
        now,
      ),
    verifyAsync: async (payload, sig, principal, now) =>
      check(
        await verifySshsigAsync(Buffer.from(sig, "base64"), ENROLLMENT_NAMESPACE, payload),
        principal,
        now,
      ),
  };
}

/**
 * SSHSIG security with the controller key; `enrollmentSigners` lists further keys whose
 * enrollment records are believed.
 */
export function sshControllerSecurity(
  key: PrivateKeyInfo,
  enrollmentSigners?: AllowedSigners,
): ControllerSecurity {
  return {
    requestSigner: sshsigSigner(key, REQUEST_NAMESPACE),
    enrollmentSigner: sshsigSigner(key, ENROLLMENT_NAMESPACE),
    enrollmentVerifier: enrollmentVerifier(key, enrollmentSigners),
    replyVerifier: (pinned, unaccepted) => pinnedKeyVerifier(pinned, REPLY_NAMESPACE, unaccepted),
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

/** Who a request is signed as: the signer of its envelope and the `sender` principal it claims. */
export interface RequestIdentity {
  readonly signer: PayloadSigner;
  readonly principal: string;
}

/** Named request identities, by the opaque name an execution context asks for. */
export type RequestIdentities = Readonly<Record<string, RequestIdentity>>;

/** An SSHSIG request identity: `key` signs in the request namespace, claiming `principal`. */
export function sshRequestIdentity(key: PrivateKeyInfo, principal: string): RequestIdentity {
  return { signer: sshsigSigner(key, REQUEST_NAMESPACE), principal };
}

/**
 * Loads the key file of every named identity. `optionPath` is where the names sit in the
 * caller's configuration (`controller.signers`), so an unreadable or unusable key is reported
 * as `<optionPath>.<name>.keyPath: expected …, found …`.
 */
export function loadRequestIdentities(
  configs: Readonly<Record<string, RequestSignerConfig | undefined>>,
  optionPath: string,
): RequestIdentities {
  const identities: Record<string, RequestIdentity> = {};
  for (const [name, config] of Object.entries(configs)) {
    if (config === undefined) continue;
    const option = `${optionPath}.${name}.keyPath`;
    const hint = `check the path and its permissions, or create the key with \`commodore keygen --out ${config.keyPath} --principal ${config.principal}\``;
    const { data, stats } = readBoundedFile(
      config.keyPath,
      MAX_PRIVATE_KEY_BYTES,
      (found) =>
        new OptionsError(
          `${option}: expected a readable private key file, found ${found} for ${config.keyPath}`,
          hint,
        ),
    );
    try {
      const key = parsePrivateKey(data, config.keyPath);
      checkKeyPermissions(config.keyPath, stats);
      identities[name] = sshRequestIdentity(key, config.principal);
    } catch (err) {
      if (err instanceof UnprotectedKeyError)
        throw new OptionsError(
          `${option}: expected a private key file only its owner may access, found permissions ${err.modeText} for ${config.keyPath}`,
          err.hint,
        );
      if (!(err instanceof KeyError)) throw err;
      throw new OptionsError(
        `${option}: expected an unencrypted OpenSSH private key, found an unusable key (${err.message})`,
        err.hint,
      );
    }
  }
  return identities;
}

/**
 * Picks the identity a request is signed as: the named one when `name` is one of `named`,
 * else `fallback` (the controller's default key and principal).
 */
export function requestIdentityFor(
  fallback: RequestIdentity,
  named: RequestIdentities,
  name: string | undefined,
): RequestIdentity {
  return name !== undefined && Object.hasOwn(named, name) ? (named[name] ?? fallback) : fallback;
}
