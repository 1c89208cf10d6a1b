/**
 * Agent-side authorization, default deny (in the spirit of Choria's ActionPolicy). The
 * verified signer principal (`sender`, checked against allowed_signers for the signing key)
 * and optionally the end user (`on_behalf_of`) must be granted the provider, and optionally
 * its arguments, by some rule. Providers in `anySigner` (by default the read-only ping, uptime
 * and facts) are open to every verified signer. So a read-only key cannot restart anything
 * even if the bot in front of it is misconfigured.
 */
import { z } from "zod";
import { globMatch } from "../protocol/glob.ts";

/** Providers every verified signer may call unless configured otherwise. */
export const DEFAULT_ANY_SIGNER = ["ping", "uptime", "facts"] as const;

const glob = z.string().min(1).max(255);
const ruleSchema = z
  .object({
    /** Signer principals (globs over `sender`). */
    principals: z.array(glob).min(1),
    /** End users (globs over `on_behalf_of`); when set, requests without one never match. */
    users: z.array(glob).min(1).optional(),
    /** Provider names (globs). */
    providers: z.array(glob).min(1),
    /**
     * Positional argument globs (a list at a position means any of them); when set, the request
     * must have exactly this many arguments, each matching.
     */
    args: z
      .array(z.union([glob, z.array(glob).min(1)]))
      .max(64)
      .optional(),
  })
  .strict();

/** The agent's `authorization` section. */
export const authorizationSchema = z
  .object({
    /** Only `deny` exists: what no rule grants is refused. */
    default: z.literal("deny").default("deny"),
    anySigner: z.array(z.string().min(1).max(255)).default([...DEFAULT_ANY_SIGNER]),
    rules: z.array(ruleSchema).default([]),
  })
  .strict();

/** Parsed authorization settings. */
export type AuthorizationConfig = z.infer<typeof authorizationSchema>;
type Rule = AuthorizationConfig["rules"][number];

/** Who asks for what. */
export interface AccessRequest {
  readonly sender: string;
  readonly onBehalfOf: string | undefined;
  readonly provider: string;
  readonly args: readonly string[];
}

/** The decision, with a reason to put in the refusal. */
export type AccessDecision =
  { readonly ok: true } | { readonly ok: false; readonly reason: string };

const any = (globs: readonly string[], text: string) => globs.some((g) => globMatch(g, text));

function ruleGrants(rule: Rule, req: AccessRequest): boolean {
  if (!any(rule.principals, req.sender) || !any(rule.providers, req.provider)) return false;
  if (rule.users && (req.onBehalfOf === undefined || !any(rule.users, req.onBehalfOf)))
    return false;
  if (rule.args === undefined) return true;
  if (rule.args.length !== req.args.length) return false;
  return rule.args.every((g, i) => any(typeof g === "string" ? [g] : g, req.args[i] ?? ""));
}

/** Decides one request. */
export function authorize(config: AuthorizationConfig, req: AccessRequest): AccessDecision {
  if (config.anySigner.includes(req.provider)) return { ok: true };
  if (config.rules.some((r) => ruleGrants(r, req))) return { ok: true };
  const call = [req.provider, ...req.args].map((w) => JSON.stringify(w.slice(0, 64))).join(" ");
  const user =
    req.onBehalfOf === undefined ? "" : ` on behalf of ${JSON.stringify(req.onBehalfOf)}`;
  return {
    ok: false,
    reason: `not authorized: principal ${JSON.stringify(req.sender)}${user} may not call ${call} on this host (no authorization rule grants it; default deny)`,
  };
}
