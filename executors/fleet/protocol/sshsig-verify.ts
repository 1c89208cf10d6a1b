/**
 * Verifying SSHSIG blobs, synchronously or on libuv's thread pool (node:crypto's callback
 * form), with identical checks: both parse the blob the same way, insist on the expected
 * namespace and an allowed hash, and never throw on hostile input.
 */
import { verify as cryptoVerify, type KeyObject, type VerifyKeyObjectInput } from "node:crypto";
import { publicKeyFromBlob, type PublicKeyInfo } from "./keys.ts";
import { ALLOWED_HASHES, ECDSA_HASH, MAGIC, RSA_HASH, VERSION, signedData } from "./sshsig-data.ts";
import { SshReader } from "./wire.ts";

/** Why a signature was not accepted. */
export type SigFailure = "malformed_signature" | "wrong_namespace" | "bad_signature";

/** Outcome of {@link verifySshsig}. */
export type SigCheck =
  | { readonly ok: true; readonly key: PublicKeyInfo }
  | { readonly ok: false; readonly reason: SigFailure; readonly detail: string };

/** One node:crypto verification, or `undefined` when the blob can never verify. */
interface CryptoCall {
  readonly algorithm: string | null;
  readonly data: Buffer;
  readonly key: KeyObject | VerifyKeyObjectInput;
  readonly signature: Buffer;
}

type Prepared =
  | { readonly ok: true; readonly key: PublicKeyInfo; readonly call: CryptoCall | undefined }
  | Extract<SigCheck, { ok: false }>;

function fixedWidth(data: Buffer, size: number): Buffer {
  if (data.length >= size) return data.subarray(data.length - size);
  return Buffer.concat([Buffer.alloc(size - data.length), data]);
}

function cryptoCall(key: PublicKeyInfo, sigType: string, sigBody: Buffer, data: Buffer) {
  if (key.type === "ssh-ed25519") {
    if (sigType !== "ssh-ed25519" || sigBody.length !== 64) return undefined;
    return { algorithm: null, data, key: key.key, signature: sigBody };
  }
  const ec = ECDSA_HASH[key.type];
  if (ec) {
    if (sigType !== key.type) return undefined;
    const inner = new SshReader(sigBody);
    const r = inner.mpint();
    const s = inner.mpint();
    if (!inner.done() || r.length > ec.size || s.length > ec.size) return undefined;
    const signature = Buffer.concat([fixedWidth(r, ec.size), fixedWidth(s, ec.size)]);
    return {
      algorithm: ec.hash,
      data,
      key: { key: key.key, dsaEncoding: "ieee-p1363" as const },
      signature,
    };
  }
  const hash = RSA_HASH[sigType];
  return hash === undefined
    ? undefined
    : { algorithm: hash, data, key: key.key, signature: sigBody };
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
  let valid = false;
  try {
    valid =
      p.call !== undefined &&
      cryptoVerify(p.call.algorithm, p.call.data, p.call.key, p.call.signature);
  } catch {
    valid = false;
  }
  return outcome(p.key, valid);
}

/**
 * {@link verifySshsig} with the public-key operation on libuv's thread pool, so several
 * verifications run in parallel while the event loop stays free. Same checks, same results.
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
  return new Promise((resolve) => {
    try {
      cryptoVerify(call.algorithm, call.data, call.key, call.signature, (err, valid) =>
        resolve(outcome(key, err === null && valid)),
      );
    } catch {
      resolve(outcome(key, false));
    }
  });
}
