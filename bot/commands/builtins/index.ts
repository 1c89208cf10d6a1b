/**
 * Builds the registry of built-in commands and checks role grants against it.
 */
import { OptionsError } from "../../../lib/errors.ts";
import type { MetricsRegistry } from "../../../lib/metrics.ts";
import { suggest } from "../../../lib/suggest.ts";
import type { AuditLog } from "../../audit/log.ts";
import type { FleetPort } from "../../fleet-port.ts";
import type { JobCanceller } from "../../jobs/cancel.ts";
import type { JobStore } from "../../jobs/types.ts";
import type { ProvisionPort } from "../../provision-port.ts";
import { ANY_COMMAND, type Policy, type RoleConfig } from "../../permissions/policy.ts";
import { CommandRegistry } from "../registry.ts";
import type { Risk } from "../types.ts";
import { auditCommand } from "./audit.ts";
import { cancelCommand } from "./cancel.ts";
import { confirmCommand } from "./confirm.ts";
import { fleetCommand } from "./fleet.ts";
import { helpCommand } from "./help.ts";
import { jobCommand, jobsCommand } from "./jobs.ts";
import { nodesCommand } from "./nodes.ts";
import { provisionCommand } from "./provision.ts";
import { rerunCommand } from "./rerun.ts";

/** What the built-in commands need. */
export interface BuiltinDeps {
  readonly policy: Policy;
  readonly jobs: JobStore;
  readonly canceller: JobCanceller;
  readonly audit: AuditLog;
  readonly fleet: FleetPort | undefined;
  /** Provisioning, when configured (`provision` answers E_PROVISION_UNAVAILABLE otherwise). */
  readonly provision?: ProvisionPort | undefined;
  readonly providerRisks: Readonly<Record<string, Risk>>;
  readonly confirmTtlSeconds: number;
  readonly metrics: MetricsRegistry;
}

/** A registry holding every built-in command. */
export function builtinRegistry(deps: BuiltinDeps): CommandRegistry {
  const registry = new CommandRegistry();
  return registry
    .register(helpCommand(registry, deps.policy))
    .register(fleetCommand(deps.fleet, deps.providerRisks, deps.metrics))
    .register(nodesCommand(deps.fleet))
    .register(jobsCommand(deps.jobs))
    .register(provisionCommand(deps.provision))
    .register(jobCommand(deps.jobs, deps.provision))
    .register(auditCommand(deps.audit))
    .register(confirmCommand(deps.confirmTtlSeconds))
    .register(rerunCommand())
    .register(cancelCommand(deps.jobs, deps.canceller, deps.policy));
}

/** Checks that every grant names a known command and known argument names. */
export function checkGrants(
  roles: Readonly<Record<string, RoleConfig>>,
  registry: CommandRegistry,
): void {
  const names = registry.all().map((s) => s.name);
  for (const [role, { grants }] of Object.entries(roles)) {
    grants.forEach((grant, i) => {
      const path = `roles.${role}.grants[${i}]`;
      if (grant.command === ANY_COMMAND) return;
      const spec = registry.find(grant.command);
      if (!spec) {
        const near = suggest(grant.command, names);
        throw new OptionsError(
          `${path}.command: expected one of ${names.join(", ")}, found "${grant.command}"`,
          near === undefined ? undefined : `did you mean ${near}?`,
        );
      }
      const argNames = spec.args.map((a) => a.name);
      for (const arg of Object.keys(grant.args ?? {})) {
        if (!argNames.includes(arg))
          throw new OptionsError(
            `${path}.args.${arg}: expected an argument of ${spec.name} (${argNames.join(", ") || "none"}), found "${arg}"`,
          );
      }
    });
  }
}
