/**
 * Why a voice request failed verification. Every failure answers HTTP 400; the code is safe to
 * show to the caller and to log, the message never repeats anything from the request body.
 */
import { CommodoreError } from "../../../lib/errors.ts";

/** Stable failure codes of the voice request verifier. */
export type VoiceVerifyCode =
  /** A required signature header is missing or malformed. */
  | "E_VOICE_HEADERS"
  /** `SignatureCertChainUrl` breaks the URL rules. */
  | "E_VOICE_CERT_URL"
  /** The certificate chain could not be fetched. */
  | "E_VOICE_CERT_FETCH"
  /** The chain could not be parsed or does not chain to a trusted root. */
  | "E_VOICE_CERT_CHAIN"
  /** A certificate in the chain is outside its validity dates. */
  | "E_VOICE_CERT_DATES"
  /** The leaf certificate does not name `echo-api.amazon.com`. */
  | "E_VOICE_CERT_SAN"
  /** `Signature-256` does not verify over the raw body. */
  | "E_VOICE_SIGNATURE"
  /** `request.timestamp` is missing or too far from now. */
  | "E_VOICE_TIMESTAMP"
  /** The application id is not one this endpoint serves. */
  | "E_VOICE_APPLICATION"
  /** The body is not a well-formed request envelope. */
  | "E_VOICE_REQUEST"
  /** The request id was already answered within the replay window. */
  | "E_VOICE_REPLAY";

/** A verification failure with a stable code and a short, body-free reason. */
export class VoiceVerifyError extends CommodoreError {
  declare readonly code: VoiceVerifyCode;

  constructor(code: VoiceVerifyCode, message: string, hint?: string) {
    super(code, message, hint === undefined ? {} : { hint });
  }
}
