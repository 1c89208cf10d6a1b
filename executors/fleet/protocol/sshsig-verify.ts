/**
 * Verifying SSHSIG blobs, synchronously or on the verification threads (verify-pool.ts), with
 * identical checks: both parse the blob the same way on the calling thread, insist on the
 * expected namespace and an allowed hash, and never throw on hostile input; only the final
 * public-key operation may run elsewhere.
 */
import { publicKeyFromBlob, type PublicKeyInfo } from "./keys.ts";
import { ALLOWED_HASHES, ECDSA_HASH, MAGIC, RSA_HASH, VERSION, signedData } from "./sshsig-data.ts";
import { runCryptoCall, verifyPool, type CryptoCall } from "./verify-pool.ts";
import { SshReader } from "./wire.ts";

/** Why a signature was not accepted. */
export type SigFailure = "malformed_signature" | "wrong_namespace" | "bad_signature";

/** Outcome of {@link verifySshsig}. */
export type SigCheck =
  | { readonly ok: true; readonly key: PublicKeyInfo }
  | { readonly ok: false; readonly reason: SigFailure; readonly detail: string };

/** Length of an ed25519 signature. */
const ED25519_SIGNATURE_BYTES = 64;

type Prepared =
  | { readonly ok: true; readonly key: PublicKeyInfo; readonly call: CryptoCall | undefined }
  | Extract<SigCheck, { ok: false }>;

function fixedWidth(data: Buffer, size: number): Buffer {
  if (data.length >= size) return data.subarray(data.length - size);
  return Buffer.concat([Buffer.alloc(size - data.length), data]);
}

/** The node:crypto call that decides the signature, or `undefined` when it can never verify. */
function cryptoCall(
  key: PublicKeyInfo,
  sigType: string,
  sigBody: Buffer,
  data: Buffer,
): CryptoCall | undefined {
  if (key.type === "ssh-ed25519") {
    if (sigType !== "ssh-ed25519" || sigBody.length !== ED25519_SIGNATURE_BYTES) return undefined;
    return { algorithm: null, data, key: key.key, ieeeP1363: false, signature: sigBody };
  }
  const ec = ECDSA_HASH[key.type];
  if (ec) {
    if (sigType !== key.type) return undefined;
    const inner = new SshReader(sigBody);
    const r = inner.mpint();
    const s = inner.mpint();
    if (!inner.done() || r.length > ec.size || s.length > ec.size) return undefined;
    const signature = Buffer.concat([fixedWidth(r, ec.size), fixedWidth(s, ec.size)]);
    return { algorithm: ec.hash, data, key: key.key, ieeeP1363: true, signature };
  }
  const hash = RSA_HASH[sigType];
  return hash === undefined
    ? undefined
    : { algorithm: hash, data, key: key.key, ieeeP1363: false, signature: sigBody };
}

function prepare(blob: Buffer, namespace: string, message: Buffer | string): Prepared {
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
  try {
    return {
      ok: true,
      key,
      call: cryptoCall(key, sigType, sigBody, signedData(namespace, hashAlg, message)),
    };
  } catch {
    return { ok: true, key, call: undefined };
  }
}

function outcome(key: PublicKeyInfo, valid: boolean): SigCheck {
  return valid
    ? { ok: true, key }
    : {
        ok: false,
        reason: "bad_signature",
        detail: `signature by ${key.fingerprint} does not verify`,
      };
}

/**
 * Verifies an SSHSIG blob over `message` for `namespace`. Returns the signer's key on success;
 * never throws on hostile input.
 */
export function verifySshsig(blob: Buffer, namespace: string, message: Buffer | string): SigCheck {
  const p = prepare(blob, namespace, message);
  if (!p.ok) return p;
  return outcome(p.key, p.call !== undefined && runCryptoCall(p.call));
}

/**
 * {@link verifySshsig} with the public-key operation on the process's verification threads
 * (verify-pool.ts), so checks run in parallel while the event loop stays free; in-thread when
 * no thread was reserved. Same checks, same results.
 */
export function verifySshsigAsync(
  blob: Buffer,
  namespace: string,
  message: Buffer | string,
): Promise<SigCheck> {
  const p = prepare(blob, namespace, message);
  if (!p.ok) return Promise.resolve(p);
  const { key, call } = p;
  if (call === undefined) return Promise.resolve(outcome(key, false));
  return verifyPool.verify(call).then((valid) => outcome(key, valid));
}
