/**
 * Resolving a queued host to a connection target with a pinned host key.
 *
 * A registered host brings the key its agent registered (signed). An unregistered address gets
 * a key only by trust-on-first-use, and only inside a configured network; anything else is
 * refused before ansible starts.
 */
import { findHosts, type KnownHost } from "../hosts.ts";
import {
  AbsentHostError,
  HostUnreachableError,
  InvalidHostError,
  UnknownHostKeyError,
} from "../errors.ts";
import { isIpAddress, normalizeAddress, type NetworkSet } from "../net.ts";
import { keyscan, knownHostsName, parseHostKey, preferredKey, type HostKey } from "./host-key.ts";
import type { HostKeyPins } from "./pins.ts";

/** Where and as whom ansible connects, and which key the host must present. */
export interface RunTarget {
  /** Inventory and log name (sanitised). */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly key: HostKey;
  readonly source: "registered" | "tofu";
}

/** What target resolution needs. */
export interface TargetDeps {
  readonly hosts: readonly KnownHost[];
  readonly defaultPort: number;
  readonly tofuNetworks: NetworkSet;
  readonly pins: HostKeyPins;
  readonly keyscanCommand: string;
  readonly keyscanTimeoutMs: number;
  readonly signal?: AbortSignal;
}

const SAFE_NAME = /[^A-Za-z0-9_.-]/g;

/** A name safe for inventories and directory names: no slashes, never `.`-leading. */
export function safeName(name: string): string {
  const cleaned = name.replace(SAFE_NAME, "_").replace(/^\.+/, "_");
  return cleaned === "" ? "_" : cleaned;
}

function registeredTarget(host: KnownHost, address: string | undefined, port: number): RunTarget {
  const key = parseHostKey(host.publicKey);
  if (!key) throw new UnknownHostKeyError(host.hostname);
  const addresses = host.addresses.map(normalizeAddress).filter((a) => a !== undefined);
  const wanted = address === undefined ? undefined : normalizeAddress(address);
  const chosen = wanted !== undefined && addresses.includes(wanted) ? wanted : addresses[0];
  if (chosen === undefined) {
    throw new InvalidHostError(host.hostname, "has no usable address in its registration");
  }
  return {
    name: safeName(host.hostname),
    address: chosen,
    port: host.sshPort ?? port,
    key,
    source: "registered",
  };
}

/** Resolves `host` (hostname or address) to a target, or throws a typed refusal. */
export async function resolveTarget(
  deps: TargetDeps,
  host: string,
  address: string | undefined,
): Promise<RunTarget> {
  const matches = findHosts(deps.hosts, host);
  if (matches.length > 1) {
    throw new InvalidHostError(
      host,
      `matches ${matches.length} registered hosts; name one by hostname`,
    );
  }
  const match = matches[0];
  if (match?.absent !== undefined) throw new AbsentHostError(match.hostname, match.absent);
  if (match) return registeredTarget(match, address, deps.defaultPort);
  const ip = normalizeAddress(address ?? host);
  if (ip === undefined || !isIpAddress(ip) || !deps.tofuNetworks.contains(ip)) {
    throw new UnknownHostKeyError(host);
  }
  const pinName = knownHostsName(ip, deps.defaultPort);
  let key = await deps.pins.get(pinName);
  if (!key) {
    const offered = await keyscan({
      command: deps.keyscanCommand,
      address: ip,
      port: deps.defaultPort,
      types: [],
      timeoutMs: deps.keyscanTimeoutMs,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    const first = preferredKey(offered);
    if (!first) throw new HostUnreachableError(host, ip, deps.defaultPort);
    key = await deps.pins.pin(pinName, first);
  }
  return { name: safeName(ip), address: ip, port: deps.defaultPort, key, source: "tofu" };
}
