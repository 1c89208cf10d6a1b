/**
 * `nodes [list|pending|accept|reject|revoke|retire] [host] [fingerprint] [--all-matching]
 * [where …]`: the accepted hosts (live or `absent`), enrollment of host keys, and the
 * decommissioning of a host (`retire`: no longer expected in any answer).
 *
 * `list` (the default) and `pending` ({@link READ_ACTIONS}) are `read`; every other action is
 * `change`, so only a role of the caller's own may grant it, and only a grant naming it
 * (`args: { action: [accept, revoke] }`): a bare `command: nodes` grant covers the read actions
 * alone (bot/permissions/policy.ts). An action added to {@link NODES_ACTIONS} is `change` unless
 * it is also listed in READ_ACTIONS. Every one lands in the audit log with the caller's name,
 * which is also recorded in the controller-signed enrollment record.
 */
import { CommodoreError } from "../../../lib/errors.ts";
import { changeLine } from "../../format/enrollment.ts";
import { selectNodes } from "../../../executors/fleet/index.ts";
import type { EnrollmentChange } from "../../../executors/fleet/index.ts";
import type { FleetPort } from "../../fleet-port.ts";
import { requireFleet } from "./fleet.ts";
import {
  FLAG_SET,
  type CommandSpec,
  type ParsedCommand,
  type RunContext,
  type RunOutcome,
} from "../types.ts";

/** What `nodes` can do. */
export const NODES_ACTIONS = ["list", "pending", "accept", "reject", "revoke", "retire"] as const;
type NodesAction = (typeof NODES_ACTIONS)[number];
/** The actions that only read; any other action is `change`. */
const READ_ACTIONS: readonly NodesAction[] = ["list", "pending"];

function actionOf(cmd: ParsedCommand): NodesAction {
  const word = cmd.args["action"];
  return NODES_ACTIONS.find((a) => a === word) ?? "list";
}

function hostOf(cmd: ParsedCommand, action: NodesAction): string {
  const host = cmd.args["host"];
  if (typeof host === "string") return host;
  throw new CommodoreError("E_BAD_ARGUMENT", `nodes ${action} needs a hostname`, {
    hint:
      action === "accept"
        ? "say `nodes accept <host> [fingerprint]`, or `nodes accept --all-matching where role=web`"
        : `say \`nodes ${action} <host>\`; \`nodes pending\` lists waiting hosts`,
  });
}

function changed(
  title: string,
  changes: readonly EnrollmentChange[],
  extra: string[] = [],
): RunOutcome {
  return {
    ok: true,
    result: {
      kind: "data",
      title,
      data: { enrollment: changes },
      lines: [...changes.map(changeLine), ...extra],
    },
  };
}

/** Creates the `nodes` command. */
export function nodesCommand(fleet: FleetPort | undefined): CommandSpec {
  return {
    name: "nodes",
    aliases: ["hosts"],
    summary:
      "list hosts; accept, reject or revoke host keys (nodes pending lists waiting ones); retire a decommissioned host",
    usage:
      "nodes [list|pending] [where …] | nodes accept <host> [fingerprint] | nodes accept --all-matching where … | nodes reject|revoke|retire <host>",
    examples: [
      "nodes",
      "nodes where role=web cpus>=4",
      "nodes pending",
      "nodes accept www01 SHA256:Qm9vYmFy…",
      "nodes accept --all-matching where role=web",
      "nodes revoke www01",
      "nodes retire www01",
    ],
    args: [
      {
        name: "action",
        kind: "word",
        required: false,
        help: "list (default), pending, accept, reject, revoke or retire",
        choices: () => NODES_ACTIONS,
      },
      { name: "host", kind: "word", required: false, help: "the hostname to act on" },
      {
        name: "fingerprint",
        kind: "word",
        required: false,
        help: "accept only if the host's key has this SHA256 fingerprint",
      },
      {
        name: "all-matching",
        kind: "flag",
        help: "accept every pending host the where filter selects (never key changes)",
      },
    ],
    takesWhere: true,
    permission: "grant",
    risk: (cmd) => (READ_ACTIONS.includes(actionOf(cmd)) ? "read" : "change"),
    async targets(cmd) {
      const action = actionOf(cmd);
      if (READ_ACTIONS.includes(action) || cmd.args["all-matching"] === FLAG_SET) return [];
      return typeof cmd.args["host"] === "string" ? [cmd.args["host"]] : [];
    },
    async run(ctx: RunContext): Promise<RunOutcome> {
      const port = requireFleet(fleet);
      const cmd = ctx.command;
      const action = actionOf(cmd);
      const match = {
        all: false,
        node_facts: { ...cmd.where },
        ...(cmd.filters === undefined ? {} : { filters: cmd.filters.map((f) => ({ ...f })) }),
      };
      const by = ctx.principal.id;
      switch (action) {
        case "list": {
          const nodes = selectNodes(match, await port.nodes()).sort((a, b) =>
            a.hostname.localeCompare(b.hostname),
          );
          return { ok: true, result: { kind: "nodes", nodes } };
        }
        case "pending": {
          const nodes = selectNodes(match, await port.enrollment.unaccepted());
          return { ok: true, result: { kind: "nodes", nodes } };
        }
        case "accept": {
          if (cmd.args["all-matching"] === FLAG_SET) {
            if (Object.keys(cmd.where).length === 0 && (cmd.filters ?? []).length === 0)
              throw new CommodoreError(
                "E_BAD_ARGUMENT",
                "nodes accept --all-matching needs a where filter",
                {
                  hint: "e.g. `nodes accept --all-matching where role=web`; every host: `where hostname=*`",
                },
              );
            const done = await port.enrollment.acceptMatching(match, by);
            const skipped = done.keyChanged.map(
              (n) =>
                `${n.hostname} ${n.fingerprint}: key changed, accept it by name after checking`,
            );
            return changed(`${done.changes.length} host keys accepted`, done.changes, skipped);
          }
          const fingerprint = cmd.args["fingerprint"];
          const c = await port.enrollment.accept(
            hostOf(cmd, action),
            by,
            typeof fingerprint === "string" ? fingerprint : undefined,
          );
          return changed(`nodes accept ${c.hostname}`, [c]);
        }
        case "reject":
          return changed(`nodes reject`, [await port.enrollment.reject(hostOf(cmd, action), by)]);
        case "revoke":
          return changed(`nodes revoke`, [await port.enrollment.revoke(hostOf(cmd, action), by)]);
        case "retire":
          return changed(`nodes retire`, [await port.enrollment.retire(hostOf(cmd, action), by)]);
      }
    },
  };
}
