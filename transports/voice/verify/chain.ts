/**
 * Certificate chain checks with `node:crypto` X509Certificate: every certificate within its
 * dates, the leaf naming `echo-api.amazon.com` among its DNS SANs, every link signed by the
 * next certificate (which must be a CA), and the top of the chain anchored in the trust store.
 */
import { X509Certificate } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { VoiceVerifyError } from "./errors.ts";

/** The DNS name the signing certificate must carry. */
export const SIGNING_SAN = "echo-api.amazon.com";
/** Most certificates accepted in one chain. */
export const MAX_CHAIN_CERTS = 8;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** A chain that passed every check: the leaf key and the window in which it stays valid. */
export interface VerifiedChain {
  readonly leafKey: KeyObject;
  /** Latest `notBefore` over the chain and its anchor, in ms since the epoch. */
  readonly notBefore: number;
  /** Earliest `notAfter` over the chain and its anchor, in ms since the epoch. */
  readonly notAfter: number;
}

/** Parses every PEM certificate in `pem`, in order. Throws `E_VOICE_CERT_CHAIN`. */
export function parsePemCertificates(
  pem: string,
  limit = Number.MAX_SAFE_INTEGER,
): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length > limit) {
    throw new VoiceVerifyError(
      "E_VOICE_CERT_CHAIN",
      `certificate chain has ${blocks.length} certificates, at most ${limit} are accepted`,
    );
  }
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new VoiceVerifyError("E_VOICE_CERT_CHAIN", `certificate ${i + 1} is not parseable`);
    }
  });
}

function dates(cert: X509Certificate, what: string): { from: number; to: number } {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (Number.isNaN(from) || Number.isNaN(to))
    throw new VoiceVerifyError("E_VOICE_CERT_DATES", `${what} has unreadable validity dates`);
  return { from, to };
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return parent.ca && child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** True when the SAN extension lists exactly `DNS:<name>` (Node quotes odd names, so no tricks). */
export function hasDnsSan(cert: X509Certificate, name: string): boolean {
  const entries = (cert.subjectAltName ?? "").split(", ");
  return entries.includes(`DNS:${name}`);
}

/**
 * Verifies a PEM chain (leaf first) against trusted roots at time `now` (ms since the epoch).
 * Throws {@link VoiceVerifyError} naming the failed rule.
 */
export function verifyChain(
  pem: string,
  roots: readonly X509Certificate[],
  now: number,
): VerifiedChain {
  const chain = parsePemCertificates(pem, MAX_CHAIN_CERTS);
  const leaf = chain[0];
  if (leaf === undefined)
    throw new VoiceVerifyError("E_VOICE_CERT_CHAIN", "no certificate in the fetched chain");
  if (leaf.publicKey.asymmetricKeyType !== "rsa")
    throw new VoiceVerifyError("E_VOICE_CERT_CHAIN", "the signing certificate's key is not RSA");
  if (!hasDnsSan(leaf, SIGNING_SAN))
    throw new VoiceVerifyError(
      "E_VOICE_CERT_SAN",
      `the signing certificate does not name ${SIGNING_SAN}`,
    );

  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, parent] = [chain[i], chain[i + 1]];
    if (child === undefined || parent === undefined || !signedBy(child, parent))
      throw new VoiceVerifyError(
        "E_VOICE_CERT_CHAIN",
        `certificate ${i + 1} is not signed by certificate ${i + 2}`,
      );
  }
  const top = chain[chain.length - 1] ?? leaf;
  const anchor = roots.find(
    (root) => root.fingerprint256 === top.fingerprint256 || signedBy(top, root),
  );
  if (anchor === undefined)
    throw new VoiceVerifyError(
      "E_VOICE_CERT_CHAIN",
      "the certificate chain does not lead to a trusted root",
      "check the trust store (trustedRootsFile)",
    );

  let notBefore = -Infinity;
  let notAfter = Infinity;
  for (const [i, cert] of [...chain, anchor].entries()) {
    const what =
      i === 0
        ? "the signing certificate"
        : i === chain.length
          ? "the trusted root"
          : `certificate ${i + 1}`;
    const { from, to } = dates(cert, what);
    if (now < from || now > to)
      throw new VoiceVerifyError("E_VOICE_CERT_DATES", `${what} is outside its validity dates`);
    notBefore = Math.max(notBefore, from);
    notAfter = Math.min(notAfter, to);
  }
  return { leafKey: leaf.publicKey, notBefore, notAfter };
}
