/**
 * The agent's registration: a payload signed with the host key in the registration namespace,
 * announced on the `prefix:registrations` channel at start, every heartbeat and when a
 * controller asks for a census. Controllers check it and store it in the registry
 * (controller/registrar.ts); the agent itself writes no key, so its Redis login cannot touch
 * any other host's entry.
 */
import type { PubSubBus } from "../../../lib/redis/bus.ts";
import type { PayloadSigner } from "../protocol/auth.ts";
import type { FleetNames } from "../protocol/channels.ts";
import { sealEnvelope } from "../protocol/envelope.ts";
import {
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOLS,
  type RegistrationMessage,
} from "../protocol/messages.ts";

/** What a registration says. */
export interface RegistrationData {
  readonly hostname: string;
  readonly facts: Readonly<Record<string, string>>;
  readonly publicKey: string;
  readonly version: string;
  readonly ttlMs: number;
  /** OpenSSH host certificate of `publicKey`, when the host has one. */
  readonly certificate?: string | undefined;
}

/** The signed registration text for `data` at `now`. */
export function sealRegistration(
  signer: PayloadSigner,
  data: RegistrationData,
  now: number,
): string {
  const payload: RegistrationMessage = {
    protocol: PROTOCOL_VERSION,
    type: "registration",
    hostname: data.hostname,
    facts: { ...data.facts },
    public_key: data.publicKey,
    version: data.version,
    sent_at: now,
    ttl_ms: data.ttlMs,
    ...(data.certificate === undefined ? {} : { certificate: data.certificate }),
    protocols: [...SUPPORTED_PROTOCOLS],
  };
  return sealEnvelope(payload, signer);
}

/** Announces the registration to every controller listening. */
export async function announce(
  bus: PubSubBus,
  names: FleetNames,
  signer: PayloadSigner,
  data: RegistrationData,
  now: number,
): Promise<void> {
  await bus.publish(names.registrations, sealRegistration(signer, data, now));
}
