/**
 * Extra vars: only names on the allow-list, only scalar values of bounded size.
 */
import { ExtraVarRejectedError } from "./errors.ts";
import type { ExtraVars } from "./types.ts";

/** Longest accepted string value. */
export const MAX_EXTRA_VAR_LENGTH = 1_024;

/** Ansible's own connection variables; never accepted, even if allow-listed by mistake. */
export const RESERVED_PREFIX = "ansible_";

/** Returns a clean copy of `vars`, or throws naming the first variable that is not allowed. */
export function checkExtraVars(vars: unknown, allowList: readonly string[]): ExtraVars {
  if (vars === undefined || vars === null) return {};
  if (typeof vars !== "object" || Array.isArray(vars)) {
    throw new ExtraVarRejectedError("extra_vars", "must be an object of name → value");
  }
  const allowed = new Set(allowList);
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (name.startsWith(RESERVED_PREFIX)) {
      throw new ExtraVarRejectedError(
        name,
        "is reserved: connection settings are never overridable",
      );
    }
    if (!allowed.has(name)) throw new ExtraVarRejectedError(name, "is not in the allow-list");
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new ExtraVarRejectedError(name, "must be a finite number");
    }
    if (typeof value === "string" && value.length > MAX_EXTRA_VAR_LENGTH) {
      throw new ExtraVarRejectedError(name, `is longer than ${MAX_EXTRA_VAR_LENGTH} characters`);
    }
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new ExtraVarRejectedError(
        name,
        `has a ${value === null ? "null" : typeof value} value`,
      );
    }
    out[name] = value;
  }
  return out;
}
