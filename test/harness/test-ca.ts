/**
 * A throw-away PKI made with the `openssl` CLI for voice webhook tests: a trusted root, an
 * intermediate, signing leaves (right SAN, wrong SAN, expired) and a leaf under an untrusted
 * root. Every leaf shares one RSA key, so one {@link TestPki.sign} signs bodies for all of them.
 */
import { execFileSync } from "node:child_process";
import { sign } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp.ts";

const DAY_MS = 86_400_000;
const RSA_BITS = "2048";

/** Chains (leaf first, PEM) by what is wrong with them. */
export interface TestChains {
  readonly good: string;
  readonly wrongSan: string;
  readonly expired: string;
  readonly untrusted: string;
}

/** The generated PKI. */
export interface TestPki {
  /** The trusted root, as a PEM trust store. */
  readonly trustedRootsPem: string;
  readonly chains: TestChains;
  /** Base64 RSA-SHA256 signature of `body` with the leaves' key. */
  sign(body: string | Uint8Array): string;
}

const CONFIG = `
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/issued
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = DNS:echo-api.amazon.com
[ v3_wrong_san ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = DNS:echo-api.example.com
`;

/** `YYMMDDHHMMSSZ` as `openssl ca -startdate` wants it. */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
}

/** Generates the PKI in a temporary directory; dates are relative to `now`. */
export function makeTestPki(now = Date.now()): TestPki {
  const dir = tempDir("commodore-ca-");
  mkdirSync(join(dir, "issued"));
  writeFileSync(join(dir, "openssl.cnf"), CONFIG);
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const pem = (file: string) => readFileSync(join(dir, file), "utf8");

  const key = (name: string) =>
    run([
      "genpkey",
      "-algorithm",
      "RSA",
      "-pkeyopt",
      `rsa_keygen_bits:${RSA_BITS}`,
      "-out",
      `${name}.key`,
    ]);
  const csr = (name: string, keyName: string, cn: string) =>
    run([
      "req",
      "-new",
      "-config",
      "openssl.cnf",
      "-key",
      `${keyName}.key`,
      "-subj",
      `/CN=${cn}`,
      "-out",
      `${name}.csr`,
    ]);
  const root = (name: string, cn: string) => {
    key(name);
    csr(name, name, cn);
    issue(
      name,
      ["-selfsign", "-keyfile", `${name}.key`],
      "v3_ca",
      now - DAY_MS,
      now + 3650 * DAY_MS,
    );
  };
  const issue = (name: string, signer: string[], ext: string, from: number, to: number) =>
    run([
      "ca",
      "-batch",
      "-notext",
      "-config",
      "openssl.cnf",
      ...signer,
      "-extensions",
      ext,
      "-startdate",
      asn1Time(from),
      "-enddate",
      asn1Time(to),
      "-in",
      `${name}.csr`,
      "-out",
      `${name}.pem`,
    ]);
  const by = (ca: string) => ["-cert", `${ca}.pem`, "-keyfile", `${ca}.key`];
  const leaf = (name: string, ca: string, ext: string, from: number, to: number) => {
    csr(name, "leaf", "echo-api.amazon.com");
    issue(name, by(ca), ext, from, to);
  };

  root("root", "Commodore Test Root");
  root("evil", "Commodore Untrusted Root");
  key("inter");
  csr("inter", "inter", "Commodore Test Intermediate");
  issue("inter", by("root"), "v3_ca", now - DAY_MS, now + 365 * DAY_MS);
  key("leaf");
  leaf("good", "inter", "v3_leaf", now - DAY_MS, now + 30 * DAY_MS);
  leaf("wrong-san", "inter", "v3_wrong_san", now - DAY_MS, now + 30 * DAY_MS);
  leaf("expired", "inter", "v3_leaf", now - 30 * DAY_MS, now - DAY_MS);
  leaf("untrusted", "evil", "v3_leaf", now - DAY_MS, now + 30 * DAY_MS);

  const leafKey = pem("leaf.key");
  return {
    trustedRootsPem: pem("root.pem"),
    chains: {
      good: pem("good.pem") + pem("inter.pem"),
      wrongSan: pem("wrong-san.pem") + pem("inter.pem"),
      expired: pem("expired.pem") + pem("inter.pem"),
      untrusted: pem("untrusted.pem") + pem("evil.pem"),
    },
    sign: (body) =>
      sign("sha256", typeof body === "string" ? Buffer.from(body) : body, leafKey).toString(
        "base64",
      ),
  };
}
