/**
 * `fleet <provider> [args…] [where fact=glob …]`: runs a provider on matching hosts.
 *
 * A provider's risk comes from a table (built-in read-only providers plus configuration), so
 * new providers such as service restarts plug in by configuration alone.
 */
import { CommodoreError } from "../../../lib/errors.ts";
import type { MetricsRegistry } from "../../../lib/metrics.ts";
import type { FleetPort } from "../../fleet-port.ts";
import { fleetOk } from "../../format/fleet.ts";
import type { CommandSpec, Risk, RunContext, RunOutcome } from "../types.ts";

/** Providers every agent has, all read-only. */
export const BUILTIN_PROVIDER_RISKS: Readonly<Record<string, Risk>> = {
  ping: "read",
  uptime: "read",
  facts: "read",
};

/** The fleet executor, or an error saying the bot runs without one. */
export function requireFleet(fleet: FleetPort | undefined): FleetPort {
  if (fleet) return fleet;
  throw new CommodoreError("E_FLEET_UNAVAILABLE", "this bot runs without a fleet executor", {
    hint: "configure redis and the controller section, or use `commodore start`",
  });
}

/** Creates the `fleet` command over a fleet executor and a provider → risk table. */
export function fleetCommand(
  fleet: FleetPort | undefined,
  providerRisks: Readonly<Record<string, Risk>>,
  metrics: MetricsRegistry,
): CommandSpec {
  const replies = metrics.counter(
    "commodore_fleet_host_results_total",
    "Per-host outcomes of fleet commands (ok, failed, no_ack, no_result, unexpected)",
  );
  const risks = { ...BUILTIN_PROVIDER_RISKS, ...providerRisks };
  const names = Object.keys(risks).sort();
  return {
    name: "fleet",
    aliases: ["f"],
    summary: "run a provider on every host (or those matching where fact=glob …)",
    usage: "fleet <provider> [args…] [where fact=glob …]",
    examples: [
      "fleet uptime",
      "fleet uptime where role=web env=prod",
      "fleet facts where hostname=www*",
    ],
    args: [
      {
        name: "provider",
        kind: "word",
        required: true,
        help: `what to run: ${names.join(", ")}`,
        choices: () => names,
      },
      { name: "args", kind: "rest", help: "provider arguments" },
    ],
    takesWhere: true,
    permission: "grant",
    risk: (cmd) => risks[String(cmd.args["provider"])] ?? "change",
    targets: async (cmd) => await requireFleet(fleet).expectedHosts(cmd.where),
    async run(ctx: RunContext): Promise<RunOutcome> {
      const { args, where } = ctx.command;
      const rest = args["args"];
      const result = await requireFleet(fleet).execute(
        {
          provider: String(args["provider"]),
          args: Array.isArray(rest) ? rest : [],
          where,
        },
        {
          jobId: ctx.jobId,
          principalId: ctx.principal.id,
          signal: ctx.signal,
          progress: (progress) => ctx.sink({ type: "fleet-progress", jobId: ctx.jobId, progress }),
        },
      );
      for (const host of result.hosts) replies.inc({ status: host.status });
      return { ok: fleetOk(result.summary), result: { kind: "fleet", fleet: result } };
    },
  };
}
