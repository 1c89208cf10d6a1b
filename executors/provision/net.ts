/**
 * Address helpers for provisioning: IP validation, IPv4-mapped IPv6 normalisation and CIDR
 * matching (backed by node's BlockList, so both families are handled by the runtime).
 */
import { BlockList, isIP } from "node:net";

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const IPV4_BITS = 32;
const IPV6_BITS = 128;

/** True when `text` is a literal IPv4 or IPv6 address. */
export function isIpAddress(text: string): boolean {
  return isIP(text) !== 0;
}

/** Lower-cases IPv6 and turns `::ffff:1.2.3.4` into `1.2.3.4`; returns undefined for non-IPs. */
export function normalizeAddress(text: string): string | undefined {
  const trimmed = text.trim();
  const mapped = MAPPED_V4.exec(trimmed);
  const candidate = mapped?.[1] ?? trimmed;
  const family = isIP(candidate);
  if (family === 0) return undefined;
  return family === 6 ? candidate.toLowerCase() : candidate;
}

/** Parses `a.b.c.d/n` or `v6::/n` (a bare address means a single host). Undefined if invalid. */
export function parseCidr(
  text: string,
): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const [addr, bits, extra] = text.trim().split("/");
  if (addr === undefined || extra !== undefined) return undefined;
  const family = isIP(addr);
  if (family === 0) return undefined;
  const max = family === 4 ? IPV4_BITS : IPV6_BITS;
  const prefix = bits === undefined ? max : Number(bits);
  if (!/^\d{1,3}$/.test(bits ?? String(max)) || prefix > max) return undefined;
  return { address: addr, prefix, family: family === 4 ? "ipv4" : "ipv6" };
}

/** A set of networks answering "does this address belong to one of them?". */
export interface NetworkSet {
  contains(address: string): boolean;
  readonly size: number;
}

/** Builds a {@link NetworkSet}; throws on an invalid CIDR (validate with {@link parseCidr} first). */
export function networkSet(cidrs: readonly string[]): NetworkSet {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return {
    size: cidrs.length,
    contains(address) {
      const normalized = normalizeAddress(address);
      if (normalized === undefined) return false;
      return list.check(normalized, isIP(normalized) === 4 ? "ipv4" : "ipv6");
    },
  };
}
