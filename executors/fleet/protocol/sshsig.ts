/**
 * OpenSSH signatures (SSHSIG, see PROTOCOL.sshsig in OpenSSH): what `ssh-keygen -Y sign`
 * writes and `ssh-keygen -Y verify` checks. Signing and verification use node:crypto on
 * KeyObjects; sshpk is only used (and cached) to parse keys.
 */
import { createHash, sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { publicKeyFromBlob, type PrivateKeyInfo, type PublicKeyInfo } from "./keys.ts";
import { SshReader, sshMpint, sshString } from "./wire.ts";

const MAGIC = Buffer.from("SSHSIG");
const VERSION = 1;
/** Hash algorithm Commodore signs with. */
export const SIGN_HASH = "sha512";
const ALLOWED_HASHES = new Set(["sha256", "sha512"]);
const ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----";
const ARMOR_END = "-----END SSH SIGNATURE-----";
const ARMOR_WIDTH = 70;
const ECDSA_HASH: Record<string, { hash: string; size: number }> = {
  "ecdsa-sha2-nistp256": { hash: "sha256", size: 32 },
  "ecdsa-sha2-nistp384": { hash: "sha384", size: 48 },
  "ecdsa-sha2-nistp521": { hash: "sha512", size: 66 },
};
const RSA_HASH: Record<string, string> = { "rsa-sha2-256": "sha256", "rsa-sha2-512": "sha512" };

/** Why a signature was not accepted. */
export type SigFailure = "malformed_signature" | "wrong_namespace" | "bad_signature";

/** Outcome of {@link verifySshsig}. */
export type SigCheck =
  | { readonly ok: true; readonly key: PublicKeyInfo }
  | { readonly ok: false; readonly reason: SigFailure; readonly detail: string };

function signedData(namespace: string, hashAlg: string, message: Buffer | string): Buffer {
  const digest = createHash(hashAlg).update(message).digest();
  return Buffer.concat([
    MAGIC,
    sshString(namespace),
    sshString(""),
    sshString(hashAlg),
    sshString(digest),
  ]);
}

function fixedWidth(data: Buffer, size: number): Buffer {
  if (data.length >= size) return data.subarray(data.length - size);
  return Buffer.concat([Buffer.alloc(size - data.length), data]);
}

function sshSignature(signer: PrivateKeyInfo, data: Buffer): Buffer {
  const type = signer.public.type;
  if (type === "ssh-ed25519") {
    return Buffer.concat([sshString(type), sshString(cryptoSign(null, data, signer.key))]);
  }
  const ec = ECDSA_HASH[type];
  if (ec) {
    const raw = cryptoSign(ec.hash, data, { key: signer.key, dsaEncoding: "ieee-p1363" });
    const inner = Buffer.concat([
      sshMpint(raw.subarray(0, ec.size)),
      sshMpint(raw.subarray(ec.size)),
    ]);
    return Buffer.concat([sshString(type), sshString(inner)]);
  }
  return Buffer.concat([
    sshString("rsa-sha2-512"),
    sshString(cryptoSign("sha512", data, signer.key)),
  ]);
}

/** Signs `message` in `namespace`; returns the binary SSHSIG blob. */
export function signSshsig(
  signer: PrivateKeyInfo,
  namespace: string,
  message: Buffer | string,
): Buffer {
  const sig = sshSignature(signer, signedData(namespace, SIGN_HASH, message));
  return Buffer.concat([
    MAGIC,
    Buffer.from([0, 0, 0, VERSION]),
    sshString(signer.public.blob),
    sshString(namespace),
    sshString(""),
    sshString(SIGN_HASH),
    sshString(sig),
  ]);
}

function checkAlgorithm(
  key: PublicKeyInfo,
  sigType: string,
  sigBody: Buffer,
  data: Buffer,
): boolean {
  if (key.type === "ssh-ed25519") {
    return (
      sigType === "ssh-ed25519" &&
      sigBody.length === 64 &&
      cryptoVerify(null, data, key.key, sigBody)
    );
  }
  const ec = ECDSA_HASH[key.type];
  if (ec) {
    if (sigType !== key.type) return false;
    const inner = new SshReader(sigBody);
    const r = inner.mpint();
    const s = inner.mpint();
    if (!inner.done() || r.length > ec.size || s.length > ec.size) return false;
    const p1363 = Buffer.concat([fixedWidth(r, ec.size), fixedWidth(s, ec.size)]);
    return cryptoVerify(ec.hash, data, { key: key.key, dsaEncoding: "ieee-p1363" }, p1363);
  }
  const hash = RSA_HASH[sigType];
  return hash !== undefined && cryptoVerify(hash, data, key.key, sigBody);
}

/**
 * Verifies an SSHSIG blob over `message` for `namespace`. Returns the signer's key on success;
 * never throws on hostile input.
 */
export function verifySshsig(blob: Buffer, namespace: string, message: Buffer | string): SigCheck {
  let key: PublicKeyInfo;
  let sigNamespace: string;
  let hashAlg: string;
  let sigType: string;
  let sigBody: Buffer;
  try {
    const r = new SshReader(blob);
    if (!r.bytes(MAGIC.length).equals(MAGIC)) throw new Error("missing SSHSIG magic");
    const version = r.uint32();
    if (version !== VERSION) throw new Error(`unsupported SSHSIG version ${version}`);
    key = publicKeyFromBlob(r.string());
    sigNamespace = r.text();
    r.string();
    hashAlg = r.text();
    const sig = new SshReader(r.string());
    if (!r.done()) throw new Error("trailing bytes after signature");
    sigType = sig.text();
    sigBody = sig.string();
    if (!sig.done()) throw new Error("trailing bytes inside signature");
  } catch (err) {
    return { ok: false, reason: "malformed_signature", detail: (err as Error).message };
  }
  if (sigNamespace !== namespace) {
    return {
      ok: false,
      reason: "wrong_namespace",
      detail: `signed for namespace ${JSON.stringify(sigNamespace)}, expected ${JSON.stringify(namespace)}`,
    };
  }
  if (!ALLOWED_HASHES.has(hashAlg)) {
    return {
      ok: false,
      reason: "malformed_signature",
      detail: `unsupported hash ${JSON.stringify(hashAlg)}`,
    };
  }
  let valid = false;
  try {
    valid = checkAlgorithm(key, sigType, sigBody, signedData(sigNamespace, hashAlg, message));
  } catch {
    valid = false;
  }
  return valid
    ? { ok: true, key }
    : {
        ok: false,
        reason: "bad_signature",
        detail: `signature by ${key.fingerprint} does not verify`,
      };
}

/** Armors a blob the way `ssh-keygen -Y sign` writes `.sig` files. */
export function armorSshsig(blob: Buffer): string {
  const b64 = blob.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += ARMOR_WIDTH) lines.push(b64.slice(i, i + ARMOR_WIDTH));
  return `${ARMOR_BEGIN}\n${lines.join("\n")}\n${ARMOR_END}\n`;
}

/** Reads an armored `.sig` file back into a blob. */
export function dearmorSshsig(text: string): Buffer {
  const start = text.indexOf(ARMOR_BEGIN);
  const end = text.indexOf(ARMOR_END);
  if (start < 0 || end < start) throw new Error("not an armored SSH signature");
  return Buffer.from(text.slice(start + ARMOR_BEGIN.length, end).replace(/\s+/g, ""), "base64");
}
