/**
 * OpenSSH `allowed_signers` files (ssh-keygen(1) "ALLOWED SIGNERS"): lines of
 * `principals [options] keytype base64key`, parsed once into a lookup by key blob.
 * Supported options: `namespaces="pattern,…"`, `valid-after=`, `valid-before=`;
 * `cert-authority` lines are rejected with a clear error because Commodore verifies plain keys.
 */
import { readFileSync } from "node:fs";
import { CommodoreError } from "../../../lib/errors.ts";
import { globMatch } from "./glob.ts";
import { parsePublicKeyLine, type PublicKeyInfo } from "./keys.ts";

/** An allowed_signers file that cannot be used. */
export class AllowedSignersError extends CommodoreError {
  constructor(message: string) {
    super("E_FLEET_ALLOWED_SIGNERS", message, {
      hint: 'each line is `principal[,principal] [namespaces="…"] keytype base64` (see docs/fleet-protocol.md)',
    });
  }
}

/** One trusted key with the principals it may speak for. */
export interface SignerEntry {
  readonly principals: readonly string[];
  readonly namespaces: readonly string[] | undefined;
  readonly validAfter: number | undefined;
  readonly validBefore: number | undefined;
  readonly key: PublicKeyInfo;
}

/** Why a verified key may still not sign a request. */
export type SignerRefusal =
  "unknown_signer" | "principal_mismatch" | "namespace_not_allowed" | "key_not_valid_now";

/** A parsed allowed_signers file. */
export interface AllowedSigners {
  readonly entries: readonly SignerEntry[];
  /** Checks that `principal` may sign in `namespace` with the key `blob` at `now` (ms). */
  check(blob: Buffer, principal: string, namespace: string, now: number): SignerRefusal | undefined;
}

function splitFields(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === " " || c === "\t")) {
      if (cur !== "") out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur !== "") out.push(cur);
  return out;
}

function parseTime(value: string, lineNo: number): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/.exec(value);
  if (!m)
    throw new AllowedSignersError(
      `line ${lineNo}: time ${JSON.stringify(value)} is not YYYYMMDD[HHMM[SS]][Z]`,
    );
  const [, y, mo, d, h = "00", mi = "00", s = "00", z] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  return z ? Date.UTC(...parts) : new Date(...parts).getTime();
}

function unquote(v: string): string {
  return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function parseLine(line: string, lineNo: number): SignerEntry {
  const fields = splitFields(line);
  const principals = unquote(fields.shift() ?? "")
    .split(",")
    .filter((p) => p !== "");
  if (principals.length === 0) throw new AllowedSignersError(`line ${lineNo}: no principal`);
  let namespaces: string[] | undefined;
  let validAfter: number | undefined;
  let validBefore: number | undefined;
  while (fields.length > 0 && !/^(ssh-|ecdsa-|sk-)/.test(fields[0] ?? "")) {
    for (const opt of splitOptions(fields.shift() ?? "")) {
      const eq = opt.indexOf("=");
      const name = (eq < 0 ? opt : opt.slice(0, eq)).toLowerCase();
      const value = eq < 0 ? "" : unquote(opt.slice(eq + 1));
      if (name === "namespaces") namespaces = value.split(",").filter((n) => n !== "");
      else if (name === "valid-after") validAfter = parseTime(value, lineNo);
      else if (name === "valid-before") validBefore = parseTime(value, lineNo);
      else if (name === "cert-authority")
        throw new AllowedSignersError(`line ${lineNo}: cert-authority keys are not supported`);
      else throw new AllowedSignersError(`line ${lineNo}: unknown option ${JSON.stringify(name)}`);
    }
  }
  const [type, data] = fields;
  if (type === undefined || data === undefined)
    throw new AllowedSignersError(`line ${lineNo}: missing key type or key data`);
  try {
    return {
      principals,
      namespaces,
      validAfter,
      validBefore,
      key: parsePublicKeyLine(`${type} ${data}`),
    };
  } catch (err) {
    throw new AllowedSignersError(`line ${lineNo}: ${(err as Error).message}`);
  }
}

function splitOptions(field: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const c of field) {
    if (c === '"') quoted = !quoted;
    if (c === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out.filter((o) => o !== "");
}

/** Parses allowed_signers text. */
export function parseAllowedSigners(text: string): AllowedSigners {
  const entries: SignerEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    entries.push(parseLine(line, i + 1));
  });
  const byBlob = new Map<string, SignerEntry[]>();
  for (const e of entries) {
    const id = e.key.blob.toString("base64");
    byBlob.set(id, [...(byBlob.get(id) ?? []), e]);
  }
  return {
    entries,
    check(blob, principal, namespace, now) {
      const candidates = byBlob.get(blob.toString("base64"));
      if (!candidates) return "unknown_signer";
      const forPrincipal = candidates.filter((e) =>
        e.principals.some((p) => globMatch(p, principal)),
      );
      if (forPrincipal.length === 0) return "principal_mismatch";
      const inNamespace = forPrincipal.filter(
        (e) => e.namespaces === undefined || e.namespaces.some((n) => globMatch(n, namespace)),
      );
      if (inNamespace.length === 0) return "namespace_not_allowed";
      const valid = inNamespace.some(
        (e) =>
          (e.validAfter === undefined || now >= e.validAfter) &&
          (e.validBefore === undefined || now <= e.validBefore),
      );
      return valid ? undefined : "key_not_valid_now";
    },
  };
}

/** Reads and parses an allowed_signers file. */
export function loadAllowedSigners(path: string): AllowedSigners {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new AllowedSignersError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  return parseAllowedSigners(text);
}
