/**
 * An in-memory fleet for bot tests that do not need real agents: a fixed list of nodes whose
 * facts (plus `hostname`) are matched with the fleet's own matcher (globs, filters, identity
 * lists and the per-request budget), answering every provider with exit 0.
 */
import type { FleetPort } from "../../bot/fleet-port.ts";
import { selectNodes } from "../../executors/fleet/agent/matcher.ts";
import { matchFor } from "../../executors/fleet/controller/controller.ts";
import type {
  FactFilter,
  FleetRequest,
  FleetResult,
  HostResult,
  NodeInfo,
  TargetRefinement,
} from "../../executors/fleet/types.ts";

const FINGERPRINT = "SHA256:test";

/** A fleet double over `nodes`; `requests` records what was executed. */
export function fleetDouble(nodes: readonly { hostname: string; facts: Record<string, string> }[]) {
  const requests: FleetRequest[] = [];
  const withHostname = nodes.map((n) => ({ ...n, facts: { ...n.facts, hostname: n.hostname } }));
  const match = (where: FactFilter, refine?: TargetRefinement) =>
    selectNodes(matchFor(where, refine), withHostname);
  const fleet: FleetPort = {
    name: "fleet",
    async execute(request, ctx): Promise<FleetResult> {
      requests.push(request);
      const targets = match(request.where, request);
      ctx.progress({
        kind: "published",
        requestId: ctx.jobId,
        expected: targets.map((t) => t.hostname),
      });
      const hosts: HostResult[] = targets.map((t, i) => {
        const host: HostResult = {
          hostname: t.hostname,
          status: "ok",
          exit: 0,
          short: `${request.provider} ok`,
        };
        ctx.progress({ kind: "host", result: host, done: i + 1, expected: targets.length });
        return host;
      });
      const n = hosts.length;
      return {
        requestId: ctx.jobId,
        provider: request.provider,
        args: request.args,
        where: request.where,
        hosts,
        summary: {
          expected: n,
          acked: n,
          noop: 0,
          ok: n,
          failed: 0,
          noAck: 0,
          noResult: 0,
          unexpected: 0,
          durationMs: 1,
        },
        replies: hosts.map((h) => ({ hostname: h.hostname, output: { short: h.short } })),
      };
    },
    async close() {},
    enrollment: {
      // Every node of the double is accepted; enrollment is tested against real agents.
      registered: async () => await fleet.nodes(),
      unaccepted: async () => [],
      accept: async (hostname) => ({
        hostname,
        fingerprint: FINGERPRINT,
        from: "accepted",
        to: "accepted",
      }),
      acceptMatching: async () => ({ changes: [], keyChanged: [] }),
      reject: async (hostname) => ({
        hostname,
        fingerprint: FINGERPRINT,
        from: "accepted",
        to: "accepted",
      }),
      revoke: async (hostname) => ({
        hostname,
        fingerprint: FINGERPRINT,
        from: "accepted",
        to: "rejected",
      }),
      retire: async (hostname) => ({
        hostname,
        fingerprint: FINGERPRINT,
        from: "accepted",
        to: "retired",
      }),
      acceptLocal: async (hostname) => ({
        outcome: "already-accepted",
        hostname,
        fingerprint: FINGERPRINT,
      }),
    },
    async nodes(): Promise<NodeInfo[]> {
      return withHostname.map((n) => ({
        hostname: n.hostname,
        facts: n.facts,
        fingerprint: FINGERPRINT,
        publicKey: "ssh-ed25519 AAAA",
        version: "test",
        lastSeen: new Date().toISOString(),
        state: "accepted",
      }));
    },
    async expectedHosts(where, refine) {
      return match(where, refine).map((n) => n.hostname);
    },
  };
  return { fleet, requests };
}
