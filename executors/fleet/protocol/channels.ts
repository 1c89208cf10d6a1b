/**
 * Redis channel and key names, all under one configurable prefix (default `commodore`).
 * Per-request names carry the request id in a `{…}` hash tag, and the registry keys share the
 * `{prefix}` tag, so each group can live on one Redis Cluster shard.
 */

/** Default prefix for every channel and key. */
export const DEFAULT_PREFIX = "commodore";
/** SSHSIG namespace for requests (controller → agents). */
export const REQUEST_NAMESPACE = "commodore-request@commodore";
/** SSHSIG namespace for replies (agent → controller). */
export const REPLY_NAMESPACE = "commodore-reply@commodore";
/** SSHSIG namespace for agent registrations in the node registry. */
export const REGISTRATION_NAMESPACE = "commodore-registration@commodore";
/** SSHSIG namespace for the controller's enrollment records (accepted and rejected host keys). */
export const ENROLLMENT_NAMESPACE = "commodore-enrollment@commodore";

/** The names one deployment uses. */
export interface FleetNames {
  /** Pub/sub channel every agent subscribes to. */
  readonly requests: string;
  /**
   * Pub/sub channel agents announce their signed registrations on; controllers store them
   * (controller/registrar.ts).
   */
  readonly registrations: string;
  /** String key a live registrar renews, so a CLI run knows whether to ask for a census. */
  readonly registrar: string;
  /** Pub/sub channel carrying the replies to one request. */
  reply(requestId: string): string;
  /** Sorted set hostname → last heartbeat (ms), written by controllers. */
  readonly nodeIndex: string;
  /**
   * String key holding one node's signed registration (expires with its heartbeat TTL), written
   * by controllers from the host's announcement.
   */
  node(hostname: string): string;
  /** Hash hostname → controller-signed acceptance of that hostname's key. */
  readonly pins: string;
  /** Hash key fingerprint → controller-signed rejection of that key. */
  readonly rejectedKeys: string;
  /**
   * Hash hostname → the last agent-signed registration of an accepted host, written only by
   * controllers (controller/last-known.ts).
   */
  readonly lastKnown: string;
}

/** Builds the names for `prefix`. */
export function fleetNames(prefix: string = DEFAULT_PREFIX): FleetNames {
  return {
    requests: `${prefix}:requests`,
    registrations: `${prefix}:registrations`,
    registrar: `{${prefix}}:registrar`,
    reply: (id) => `${prefix}:reply:{${id}}`,
    nodeIndex: `{${prefix}}:nodes`,
    node: (hostname) => `{${prefix}}:node:${hostname}`,
    pins: `{${prefix}}:pins`,
    rejectedKeys: `{${prefix}}:rejected`,
    lastKnown: `{${prefix}}:facts`,
  };
}
