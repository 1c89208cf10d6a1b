/** `nodes [where fact=glob …]`: the registered agents and their facts. */
import type { FleetPort } from "../../fleet-port.ts";
import { requireFleet } from "./fleet.ts";
import { globMatch } from "../../identity/glob.ts";
import type { CommandSpec, RunContext, RunOutcome } from "../types.ts";

/** Creates the `nodes` command. */
export function nodesCommand(fleet: FleetPort | undefined): CommandSpec {
  return {
    name: "nodes",
    aliases: ["hosts"],
    summary: "list registered hosts and their facts",
    usage: "nodes [where fact=glob …]",
    examples: ["nodes", "nodes where role=web"],
    args: [],
    takesWhere: true,
    permission: "grant",
    risk: () => "read",
    async run(ctx: RunContext): Promise<RunOutcome> {
      const terms = Object.entries(ctx.command.where);
      const nodes = (await requireFleet(fleet).nodes())
        .filter((n) => terms.every(([k, glob]) => globMatch(glob, n.facts[k] ?? "")))
        .sort((a, b) => a.hostname.localeCompare(b.hostname));
      return { ok: true, result: { kind: "nodes", nodes } };
    },
  };
}
