/**
 * `Signature-256`: a base64 RSA-SHA256 (PKCS#1 v1.5) signature over the raw request body,
 * verified with the signing certificate's public key.
 */
import { verify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { VoiceVerifyError } from "./errors.ts";

/** Longest base64 signature accepted (an 8192-bit RSA signature is 1368 characters). */
export const MAX_SIGNATURE_LENGTH = 1_400;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Throws `E_VOICE_SIGNATURE` unless `signatureB64` verifies over exactly `body`. */
export function verifyBodySignature(body: Uint8Array, signatureB64: string, key: KeyObject): void {
  const sig = signatureB64.trim();
  if (sig.length === 0 || sig.length > MAX_SIGNATURE_LENGTH || !BASE64.test(sig)) {
    throw new VoiceVerifyError("E_VOICE_SIGNATURE", "Signature-256 is not a base64 signature");
  }
  let ok: boolean;
  try {
    ok = verify("sha256", body, key, Buffer.from(sig, "base64"));
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new VoiceVerifyError(
      "E_VOICE_SIGNATURE",
      "Signature-256 does not verify over the request body",
      "the body must reach the endpoint byte for byte as signed",
    );
  }
}
