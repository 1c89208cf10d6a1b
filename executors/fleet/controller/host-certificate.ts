/**
 * OpenSSH host certificates (`ssh-keygen -s CA -h -n <host> host_key.pub`) as an enrollment
 * policy: an agent that publishes a certificate for its registration key is accepted without
 * an operator when the certificate
 *
 * - is a host certificate (not a user certificate) certifying exactly the registration key,
 * - lists the agent's hostname among its principals (an empty list is refused, unlike sshd),
 * - is valid now (valid-after / valid-before, with the clock skew allowed on both sides),
 * - carries no critical option (none is defined for host certificates, so any is unknown),
 * - and is signed by a CA that a `@cert-authority` line of the controller's known_hosts lists
 *   for that hostname.
 *
 * Certificates are parsed with sshpk; nothing here trusts the certificate's own claims before
 * its signature verified against a configured CA.
 */
import sshpk from "sshpk";
import type { PublicKeyInfo } from "../protocol/keys.ts";

/** Why a certificate was accepted, or why not. */
export type CertificateCheck =
  | { readonly ok: true; readonly authority: string; readonly validUntil: number }
  | { readonly ok: false; readonly detail: string };

interface OpensshCertSignature {
  readonly critical?: Buffer | readonly unknown[];
}

function hasCriticalOptions(cert: sshpk.Certificate): boolean {
  const sig = (cert.signatures as { openssh?: OpensshCertSignature }).openssh;
  const critical = sig?.critical;
  if (critical === undefined) return false;
  return critical.length > 0;
}

/**
 * Checks `certLine` (`ssh-ed25519-cert-v01@openssh.com AAAA…`) for `hostname` and the
 * registration key `keyLine` against the CAs trusted for that hostname, at `now` (ms).
 */
export function checkHostCertificate(
  certLine: string,
  hostname: string,
  keyLine: string,
  authorities: readonly PublicKeyInfo[],
  now: number,
  skewMs: number,
): CertificateCheck {
  if (authorities.length === 0)
    return { ok: false, detail: `no @cert-authority in known_hosts covers ${hostname}` };
  let cert: sshpk.Certificate;
  try {
    cert = sshpk.parseCertificate(Buffer.from(certLine.trim()), "openssh");
  } catch (err) {
    return { ok: false, detail: `not an OpenSSH certificate: ${(err as Error).message}` };
  }
  const subject = cert.subjectKey.toString("ssh").split(" ").slice(0, 2).join(" ");
  if (subject !== keyLine)
    return { ok: false, detail: "certificate certifies another key than the registration's" };
  if (cert.subjects.length === 0 || cert.subjects.some((s) => s.type !== "host"))
    return { ok: false, detail: "not a host certificate with principals (ssh-keygen -h -n)" };
  if (!cert.subjects.some((s) => s.hostname === hostname))
    return { ok: false, detail: `certificate principals do not include ${hostname}` };
  if (hasCriticalOptions(cert))
    return {
      ok: false,
      detail: "certificate carries critical options, unknown for host certificates",
    };
  const from = cert.validFrom.getTime();
  const until = cert.validUntil.getTime();
  if (now + skewMs < from) return { ok: false, detail: "certificate is not yet valid" };
  if (now - skewMs > until) return { ok: false, detail: "certificate has expired" };
  for (const ca of authorities) {
    let signed = false;
    try {
      signed = cert.isSignedByKey(sshpk.parseKey(ca.line, "ssh"));
    } catch {
      signed = false;
    }
    if (signed) return { ok: true, authority: ca.fingerprint, validUntil: until };
  }
  return { ok: false, detail: "certificate is not signed by a trusted @cert-authority" };
}
