/**
 * `provision <host> [playbook] [--check]`: queues an ansible-playbook run against one
 * registered host and follows it to its recap. A `change` command, so only a role of the
 * caller's own may grant it; a grant can pin `playbook` or force dry runs (`check: "yes"`).
 */
import { CommodoreError } from "../../../lib/errors.ts";
import { provisionProgressLine, provisionResultLine } from "../../format/provision.ts";
import type { ProvisionPort } from "../../provision-port.ts";
import { FLAG_SET, type CommandSpec, type RunContext, type RunOutcome } from "../types.ts";

/** The provisioning executor, or an error saying it is not configured. */
export function requireProvision(port: ProvisionPort | undefined): ProvisionPort {
  if (port) return port;
  throw new CommodoreError("E_PROVISION_UNAVAILABLE", "provisioning is not configured", {
    hint: "add a provision section to the configuration (see docs/provisioning.md)",
  });
}

/** Creates the `provision` command over the provisioning port. */
export function provisionCommand(port: ProvisionPort | undefined): CommandSpec {
  return {
    name: "provision",
    aliases: [],
    summary: "run an ansible playbook against one registered host (--check: dry run)",
    usage: "provision <host> [playbook] [--check]",
    examples: ["provision web01", "provision web01 web", "provision web01 web --check"],
    args: [
      {
        name: "host",
        kind: "word",
        required: true,
        help: "a registered hostname (or one of its addresses)",
      },
      {
        name: "playbook",
        kind: "word",
        required: false,
        help: "playbook name; default from the host's facts or provision.defaultPlaybook",
      },
      { name: "check", kind: "flag", help: "dry run (ansible-playbook --check)" },
    ],
    takesWhere: false,
    permission: "grant",
    risk: () => "change",
    targets: async (cmd) => [String(cmd.args["host"])],
    async run(ctx: RunContext): Promise<RunOutcome> {
      const { args } = ctx.command;
      const playbook = args["playbook"];
      const result = await requireProvision(port).execute(
        {
          host: String(args["host"]),
          ...(typeof playbook === "string" ? { playbook } : {}),
          check: args["check"] === FLAG_SET,
        },
        {
          jobId: ctx.jobId,
          principalId: ctx.principal.id,
          signal: ctx.signal,
          progress: (progress) =>
            ctx.sink({ type: "progress", jobId: ctx.jobId, line: provisionProgressLine(progress) }),
        },
      );
      return {
        ok: result.status === "succeeded",
        result: {
          kind: "data",
          title: `provision ${result.jobId}`,
          data: { provision: result },
          lines: [provisionResultLine(result)],
        },
      };
    },
  };
}
