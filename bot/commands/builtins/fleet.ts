/**
 * `fleet <provider> [args…] [--limit N|N%] [--batch N|N%] [where term …]`: runs a provider on
 * matching hosts.
 *
 * A provider's risk comes from a table (built-in rules plus configuration), so new providers
 * plug in by configuration alone. A rule may depend on one argument: `service <unit> status`
 * is `read`, every other service action is `change`.
 */
import { CommodoreError } from "../../../lib/errors.ts";
import type { MetricsRegistry } from "../../../lib/metrics.ts";
import { limitHosts } from "../../../executors/fleet/index.ts";
import type { FleetPort } from "../../fleet-port.ts";
import { fleetOk } from "../../format/fleet.ts";
import type { CommandSpec, ParsedCommand, Risk, RunContext, RunOutcome } from "../types.ts";
import { FLEET_OPTIONS, refinementOf, rolloutOf } from "./fleet-options.ts";

/** A provider's risk, optionally depending on the value of one argument. */
export interface ProviderRiskRule {
  readonly risk: Risk;
  /** Risk by the value of provider argument `index` (0-based); other values get `risk`. */
  readonly byArg?: { readonly index: number; readonly risks: Readonly<Record<string, Risk>> };
}

/** Risks of the providers agents know. */
export const BUILTIN_PROVIDER_RISKS: Readonly<Record<string, ProviderRiskRule>> = {
  ping: { risk: "read" },
  uptime: { risk: "read" },
  facts: { risk: "read" },
  log: { risk: "read" },
  service: { risk: "change", byArg: { index: 1, risks: { status: "read" } } },
  exec: { risk: "change" },
  pull: { risk: "change" },
};

/** The risk of a parsed fleet command under `rules`; unknown providers are `change`. */
export function fleetRisk(
  rules: Readonly<Record<string, ProviderRiskRule>>,
  cmd: ParsedCommand,
): Risk {
  const rule = rules[String(cmd.args["provider"])];
  if (!rule) return "change";
  const rest = cmd.args["args"];
  const word = rule.byArg && Array.isArray(rest) ? rest[rule.byArg.index] : undefined;
  return (word !== undefined && rule.byArg?.risks[word]) || rule.risk;
}

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
  const risks: Record<string, ProviderRiskRule> = { ...BUILTIN_PROVIDER_RISKS };
  for (const [name, risk] of Object.entries(providerRisks)) risks[name] = { risk };
  const names = Object.keys(risks).sort();
  const expected = async (cmd: ParsedCommand) =>
    limitHosts(
      await requireFleet(fleet).expectedHosts(cmd.where, refinementOf(cmd)),
      rolloutOf(cmd).limit,
    );
  return {
    name: "fleet",
    aliases: ["f"],
    summary: "run a provider on every host (or those matching where …)",
    usage:
      "fleet <provider> [args…] [--limit N|N%] [--batch N|N%] [--batch-wait S] [--stop-after-failures N] [--hosts a,b] [where fact=glob fact!=glob fact=/re/ fact>=N …]",
    examples: [
      "fleet uptime",
      "fleet uptime where role=web env=prod",
      "fleet uptime where role=web env!=prod cpus>=4",
      "fleet facts where 'hostname=/^www\\d+$/'",
      "fleet service nginx restart --batch 2 --stop-after-failures 1 where role=web",
      "fleet log syslog 20 --limit 1",
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
    options: FLEET_OPTIONS,
    takesWhere: true,
    permission: "grant",
    risk: (cmd) => fleetRisk(risks, cmd),
    targets: expected,
    async run(ctx: RunContext): Promise<RunOutcome> {
      const { args, where } = ctx.command;
      const rest = args["args"];
      const result = await requireFleet(fleet).execute(
        {
          provider: String(args["provider"]),
          args: Array.isArray(rest) ? rest : [],
          where,
          ...refinementOf(ctx.command),
          ...rolloutOf(ctx.command),
        },
        {
          jobId: ctx.jobId,
          principalId: ctx.principal.id,
          // Each transport signs with its own identity (controller.signers); the agents' own
          // authorization then sees which way a request came in.
          signer: ctx.invocation.transport,
          signal: ctx.signal,
          progress: (progress) => ctx.sink({ type: "fleet-progress", jobId: ctx.jobId, progress }),
        },
      );
      for (const host of result.hosts) replies.inc({ status: host.status });
      return { ok: fleetOk(result.summary), result: { kind: "fleet", fleet: result } };
    },
  };
}
