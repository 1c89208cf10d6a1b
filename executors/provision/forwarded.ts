/**
 * The caller's address for the callback: the socket peer, or — only when that peer is a
 * trusted proxy — the right-most X-Forwarded-For entry that is not itself a trusted proxy.
 */
import { normalizeAddress, type NetworkSet } from "./net.ts";

/** Resolves the client address; undefined when it cannot be determined. */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: NetworkSet,
): string | undefined {
  const direct = peer === undefined ? undefined : normalizeAddress(peer);
  if (direct === undefined) return undefined;
  if (forwardedFor === undefined || !trustedProxies.contains(direct)) return direct;
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  let candidate = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i] ?? "");
    if (hop === undefined) return undefined;
    candidate = hop;
    if (!trustedProxies.contains(hop)) return hop;
  }
  return candidate;
}
