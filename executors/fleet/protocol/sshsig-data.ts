/**
 * What an SSHSIG signature covers (OpenSSH PROTOCOL.sshsig): `"SSHSIG" || string(namespace) ||
 * string(reserved) || string(hash_algorithm) || string(H(message))`. Everything before the
 * digest depends only on the namespace and hash, so it is built once per pair and reused.
 */
import { createHash } from "node:crypto";
import { sshString } from "./wire.ts";

/** The six-byte preamble of blobs and signed data. */
export const MAGIC = Buffer.from("SSHSIG");
/** SSHSIG format version. */
export const VERSION = 1;
/** Hash algorithm Commodore signs with. */
export const SIGN_HASH = "sha512";
/** Hash algorithms accepted in signatures. */
export const ALLOWED_HASHES: ReadonlySet<string> = new Set(["sha256", "sha512"]);
/** ECDSA key types with their digest and scalar size. */
export const ECDSA_HASH: Readonly<Record<string, { hash: string; size: number }>> = {
  "ecdsa-sha2-nistp256": { hash: "sha256", size: 32 },
  "ecdsa-sha2-nistp384": { hash: "sha384", size: 48 },
  "ecdsa-sha2-nistp521": { hash: "sha512", size: 66 },
};
/** RSA signature algorithms with their digest. */
export const RSA_HASH: Readonly<Record<string, string>> = {
  "rsa-sha2-256": "sha256",
  "rsa-sha2-512": "sha512",
};

/** Bound on cached prefixes; callers only pass fixed namespaces and allowed hashes. */
const PREFIX_CACHE_MAX = 64;
const prefixes = new Map<string, Buffer>();

function prefixFor(namespace: string, hashAlg: string): Buffer {
  const id = `${hashAlg} ${namespace}`;
  let prefix = prefixes.get(id);
  if (prefix === undefined) {
    prefix = Buffer.concat([MAGIC, sshString(namespace), sshString(""), sshString(hashAlg)]);
    if (prefixes.size >= PREFIX_CACHE_MAX) prefixes.clear();
    prefixes.set(id, prefix);
  }
  return prefix;
}

/** The bytes the key actually signs for `message` in `namespace`. */
export function signedData(namespace: string, hashAlg: string, message: Buffer | string): Buffer {
  const digest = createHash(hashAlg).update(message).digest();
  const prefix = prefixFor(namespace, hashAlg);
  const out = Buffer.allocUnsafe(prefix.length + 4 + digest.length);
  prefix.copy(out, 0);
  out.writeUInt32BE(digest.length, prefix.length);
  digest.copy(out, prefix.length + 4);
  return out;
}
