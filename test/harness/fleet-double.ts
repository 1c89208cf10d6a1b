/**
 * An in-memory fleet for bot tests that do not need real agents: a fixed list of nodes whose
 * facts are matched with the same glob rules, answering every provider with exit 0.
 */
import type { FleetPort } from "../../bot/fleet-port.ts";
import { globMatch } from "../../bot/identity/glob.ts";
import type {
  FactFilter,
  FleetRequest,
  FleetResult,
  HostResult,
  NodeInfo,
} from "../../executors/fleet/types.ts";

const FINGERPRINT = "SHA256:test";

/** A fleet double over `nodes`; `requests` records what was executed. */
export function fleetDouble(nodes: readonly { hostname: string; facts: Record<string, string> }[]) {
  const requests: FleetRequest[] = [];
  const match = (where: FactFilter) =>
    nodes.filter((n) =>
      Object.entries(where).every(([k, g]) =>
        globMatch(g, k === "hostname" ? n.hostname : (n.facts[k] ?? "")),
      ),
    );
  const fleet: FleetPort = {
    name: "fleet",
    async execute(request, ctx): Promise<FleetResult> {
      requests.push(request);
      const targets = match(request.where);
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
      acceptLocal: async () => true,
    },
    async nodes(): Promise<NodeInfo[]> {
      return nodes.map((n) => ({
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
      const names = match(where).map((n) => n.hostname);
      const only = refine?.identities;
      return only === undefined ? names : names.filter((h) => only.includes(h));
    },
  };
  return { fleet, requests };
}
