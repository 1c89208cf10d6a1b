/**
 * The hosts provisioning knows about: registered agents with their signature-verified host keys.
 *
 * The fleet registry is adapted to {@link HostDirectory} by the composition root; this module
 * only defines the interface, a list-backed implementation and the matching rules.
 */
import { normalizeAddress } from "./net.ts";

/** One registered host. */
export interface KnownHost {
  readonly hostname: string;
  /** Addresses the host reported (IPv4/IPv6 literals). */
  readonly addresses: readonly string[];
  /** OpenSSH public key line of its registered, signature-verified host key. */
  readonly publicKey: string;
  /** SSH port, when not the configured default. */
  readonly sshPort?: number;
  readonly facts: Readonly<Record<string, unknown>>;
  /**
   * Accepted but without a fresh registration (why, e.g. `no heartbeat since …`): still
   * counted when an address is matched, so two accepted hosts claiming one address stay
   * ambiguous, but never provisioned until its agent is live again.
   */
  readonly absent?: string;
}

/** Source of known hosts. */
export interface HostDirectory {
  list(): Promise<readonly KnownHost[]>;
}

/** A directory over a fixed list or a function returning the current list. */
export function createStaticHostDirectory(
  source: readonly KnownHost[] | (() => readonly KnownHost[]),
): HostDirectory {
  return {
    list: async () => (typeof source === "function" ? source() : source),
  };
}

/** Hosts that reported `address` (compared after normalisation). */
export function hostsWithAddress(hosts: readonly KnownHost[], address: string): KnownHost[] {
  const wanted = normalizeAddress(address);
  if (wanted === undefined) return [];
  return hosts.filter((h) => h.addresses.some((a) => normalizeAddress(a) === wanted));
}

/**
 * Hosts named by `nameOrAddress`: an exact hostname match wins; otherwise every host that
 * reported that address.
 */
export function findHosts(hosts: readonly KnownHost[], nameOrAddress: string): KnownHost[] {
  const byName = hosts.filter((h) => h.hostname === nameOrAddress);
  return byName.length > 0 ? byName : hostsWithAddress(hosts, nameOrAddress);
}
