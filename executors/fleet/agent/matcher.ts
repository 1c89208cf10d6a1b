/**
 * Does a request's `match` select this node? `all: true` selects every node. Otherwise every
 * `node_facts` entry must glob-match the fact of that name (a missing fact never matches), and
 * when `identity` is present the hostname must match one of its patterns.
 */
import { globMatch } from "../protocol/glob.ts";
import type { RequestMessage } from "../protocol/messages.ts";

/** The selector part of a request. */
export type MatchSpec = RequestMessage["match"];

/** True when `facts` (which include `hostname`) satisfy `match`. */
export function matchesNode(match: MatchSpec, facts: Readonly<Record<string, string>>): boolean {
  if (match.all) return true;
  for (const [name, pattern] of Object.entries(match.node_facts)) {
    const value = facts[name];
    if (value === undefined || !globMatch(pattern, value)) return false;
  }
  if (match.identity !== undefined) {
    const host = facts["hostname"] ?? "";
    return match.identity.some((pattern) => globMatch(pattern, host));
  }
  return true;
}
