/**
 * OpenSSH signatures (SSHSIG, see PROTOCOL.sshsig in OpenSSH): what `ssh-keygen -Y sign`
 * writes and `ssh-keygen -Y verify` checks. Signing and verification use node:crypto on
 * KeyObjects; sshpk is only used (and cached) to parse keys.
 */
import { sign as cryptoSign } from "node:crypto";
import type { PrivateKeyInfo } from "./keys.ts";
import { ECDSA_HASH, MAGIC, SIGN_HASH, VERSION, signedData } from "./sshsig-data.ts";
import { sshMpint, sshString } from "./wire.ts";

export { SIGN_HASH } from "./sshsig-data.ts";
export {
  verifySshsig,
  verifySshsigAsync,
  type SigCheck,
  type SigFailure,
} from "./sshsig-verify.ts";

const ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----";
const ARMOR_END = "-----END SSH SIGNATURE-----";
const ARMOR_WIDTH = 70;

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

/** A signer for one key and namespace; the blob header is encoded once, not per message. */
export function sshsigSignerFor(
  signer: PrivateKeyInfo,
  namespace: string,
): (message: Buffer | string) => Buffer {
  const header = Buffer.concat([
    MAGIC,
    Buffer.from([0, 0, 0, VERSION]),
    sshString(signer.public.blob),
    sshString(namespace),
    sshString(""),
    sshString(SIGN_HASH),
  ]);
  return (message) =>
    Buffer.concat([
      header,
      sshString(sshSignature(signer, signedData(namespace, SIGN_HASH, message))),
    ]);
}

/** Signs `message` in `namespace`; returns the binary SSHSIG blob. */
export function signSshsig(
  signer: PrivateKeyInfo,
  namespace: string,
  message: Buffer | string,
): Buffer {
  return sshsigSignerFor(signer, namespace)(message);
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
