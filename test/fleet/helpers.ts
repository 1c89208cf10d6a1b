/** Helpers for fleet tests that speak the wire protocol directly. */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { sshsigSigner } from "../../executors/fleet/protocol/auth.ts";
import { fleetNames } from "../../executors/fleet/protocol/channels.ts";
import { sealEnvelope } from "../../executors/fleet/protocol/envelope.ts";
import { loadPrivateKey } from "../../executors/fleet/protocol/keys.ts";
import { PROTOCOL_VERSION, type RequestMessage } from "../../executors/fleet/protocol/messages.ts";
import type { FleetProgress } from "../../executors/fleet/types.ts";
import type { MetricsRegistry } from "../../lib/metrics.ts";

/** Default-prefix names. */
export const names = fleetNames();

/** A valid request payload (ping to all) with overrides. */
export function requestPayload(overrides: Partial<RequestMessage> = {}): RequestMessage {
  const id = overrides.id ?? randomUUID();
  const now = Date.now();
  return {
    protocol: PROTOCOL_VERSION,
    type: "request",
    id,
    reply_to: names.reply(id),
    issued_at: now,
    expires_at: now + 60_000,
    sender: "ops",
    match: { all: true, node_facts: {} },
    command: { provider: "ping", args: [] },
    ...overrides,
  };
}

/** Seals `payload` signed with the key at `keyPath` in `namespace`. */
export function signedWith(keyPath: string, namespace: string, payload: object): string {
  return sealEnvelope(payload, sshsigSigner(loadPrivateKey(keyPath), namespace));
}

/** Reads a rejection count. */
export function rejected(
  metrics: MetricsRegistry,
  component: "agent" | "controller",
  reason: string,
): number {
  return metrics.counter("commodore_fleet_rejected_total", "").get({ component, reason });
}

/** A plain client plus a subscriber that records every message per channel. */
export async function spy(url: string): Promise<{
  readonly client: Redis;
  messages(channel: string): string[];
  listen(channel: string): Promise<void>;
  onMessage(fn: (channel: string, message: string) => void): void;
  close(): Promise<void>;
}> {
  const client = new Redis(url);
  const sub = new Redis(url);
  const seen = new Map<string, string[]>();
  const hooks: ((channel: string, message: string) => void)[] = [];
  sub.on("message", (channel: string, message: string) => {
    seen.set(channel, [...(seen.get(channel) ?? []), message]);
    for (const h of hooks) h(channel, message);
  });
  return {
    client,
    messages: (channel) => seen.get(channel) ?? [],
    listen: async (channel) => void (await sub.subscribe(channel)),
    onMessage: (fn) => void hooks.push(fn),
    async close() {
      client.disconnect();
      sub.disconnect();
    },
  };
}

/** An execution context that records progress. */
export function context(
  events: FleetProgress[] = [],
  signal: AbortSignal = new AbortController().signal,
) {
  return {
    jobId: "job",
    principalId: "alice",
    signal,
    progress: (e: FleetProgress) => void events.push(e),
  };
}
