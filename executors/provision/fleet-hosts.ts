/**
 * The fleet registry as a {@link HostDirectory}: every node the controller's registry reader
 * returns is accepted, with a registration whose signature verified with the accepted key, so
 * its key is the one provisioning may pin ansible to. Absent ones (no fresh registration) are
 * listed for address matching — two accepted hosts claiming one address stay ambiguous — but
 * never provisioned. Addresses come from the
 * `addresses` fact (comma-separated, as the facts provider publishes it), an SSH port from an
 * optional `ssh_port` fact.
 */
import type { NodeInfo } from "../fleet/index.ts";
import type { HostDirectory, KnownHost } from "./hosts.ts";
import { normalizeAddress } from "./net.ts";

/**
 * How long one finished registry read keeps answering. 0 by default, so a host that has just
 * registered is seen at once; concurrent callers (a burst of callbacks) still share one read,
 * and the registry reader caches verified registrations, so a read costs no cryptography.
 */
export const DEFAULT_DIRECTORY_MAX_AGE_MS = 0;
/** The fact holding the host's addresses, comma-separated. */
export const ADDRESSES_FACT = "addresses";
/** The fact naming a non-default SSH port. */
export const SSH_PORT_FACT = "ssh_port";
const MAX_PORT = 65_535;

/** Where verified, pinned nodes come from (the fleet executor's `nodes()`). */
export interface VerifiedNodeSource {
  nodes(): Promise<readonly NodeInfo[]>;
}

/** Options of {@link createFleetHostDirectory}. */
export interface FleetHostDirectoryOptions {
  readonly maxAgeMs?: number;
  /** Clock for the cache (tests). */
  readonly now?: () => number;
}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= MAX_PORT ? port : undefined;
}

/** The provisioning view of one verified node; addresses that are not IP literals are dropped. */
export function knownHostOf(node: NodeInfo): KnownHost {
  const addresses = (node.facts[ADDRESSES_FACT] ?? "")
    .split(",")
    .map((a) => normalizeAddress(a))
    .filter((a): a is string => a !== undefined);
  const sshPort = portOf(node.facts[SSH_PORT_FACT]);
  return {
    hostname: node.hostname,
    addresses: [...new Set(addresses)],
    publicKey: node.publicKey,
    ...(sshPort === undefined ? {} : { sshPort }),
    facts: node.facts,
    ...(node.absent === true ? { absent: node.detail ?? "no heartbeat" } : {}),
  };
}

/**
 * A directory over the verified registry. Concurrent callers share one read, and a finished
 * read is reused for `maxAgeMs`; a failed read is not cached.
 */
export function createFleetHostDirectory(
  source: VerifiedNodeSource,
  options: FleetHostDirectoryOptions = {},
): HostDirectory {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_DIRECTORY_MAX_AGE_MS;
  const now = options.now ?? Date.now;
  let cached: { at: number; hosts: readonly KnownHost[] } | undefined;
  let reading: Promise<readonly KnownHost[]> | undefined;
  return {
    async list() {
      if (cached && now() - cached.at < maxAgeMs) return cached.hosts;
      reading ??= (async () => {
        try {
          const at = now();
          const hosts = (await source.nodes()).map(knownHostOf);
          cached = { at, hosts };
          return hosts;
        } finally {
          reading = undefined;
        }
      })();
      return await reading;
    },
  };
}
