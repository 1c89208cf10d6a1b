/**
 * `commodore nodes [list|pending|accept|reject|revoke|retire]`: the accepted hosts and
 * enrollment from the controller's side. `pending` lists host keys waiting for acceptance (with fingerprints to
 * compare out of band); `accept` writes a controller-signed acceptance, `reject` and `revoke`
 * a controller-signed rejection, `retire` removes a decommissioned host's acceptance.
 */
import type { NodeInfo } from "../../executors/fleet/index.ts";
import { changeLine } from "../../bot/format/enrollment.ts";
import { selectNodes, matchFor } from "../../executors/fleet/index.ts";
import type { CliCommand, CliIo } from "../command.ts";
import { parseFlags } from "../command.ts";
import {
  CONTROLLER_FLAGS,
  CONTROLLER_FLAGS_HELP,
  openController,
  whereFlags,
} from "../controller.ts";
import { EXIT_UNAVAILABLE, InvalidArgumentError, MissingArgumentError } from "../errors.ts";

const NAME = "nodes";
const ACTIONS = ["list", "pending", "accept", "reject", "revoke", "retire"] as const;
type Action = (typeof ACTIONS)[number];

function nodeLine(n: NodeInfo): string {
  const facts = Object.entries(n.facts)
    .filter(([k]) => k === "role" || k === "env" || k === "os")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const state =
    n.state !== "accepted"
      ? n.state
      : n.absent === true
        ? `accepted (${n.via ?? "?"}), absent: ${n.detail ?? "no heartbeat"}`
        : `accepted (${n.via ?? "?"})`;
  const changed = n.keyChanged === true ? " KEY CHANGED" : "";
  return `${n.hostname}  ${n.fingerprint}  ${state}${changed}  ${facts}`.trimEnd();
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(NAME, argv, {
    ...CONTROLLER_FLAGS,
    where: { type: "string", multiple: true },
    "all-matching": { type: "boolean" },
    fingerprint: { type: "string" },
    by: { type: "string" },
    json: { type: "boolean" },
  });
  const [actionWord = "list", host, ...rest] = positionals;
  const action = ACTIONS.find((a) => a === actionWord);
  if (action === undefined)
    throw new InvalidArgumentError(NAME, "the action", ACTIONS.join(", "), actionWord);
  if (rest.length > 0)
    throw new InvalidArgumentError(NAME, "arguments", "one hostname", rest.join(" "));
  const clause = whereFlags(NAME, values.where ?? []);
  const bulk = values["all-matching"] === true;
  if (action === "accept" && bulk === (host !== undefined))
    throw new MissingArgumentError(NAME, "a hostname, or --all-matching with --where terms");
  if ((action === "reject" || action === "revoke" || action === "retire") && host === undefined)
    throw new MissingArgumentError(NAME, "a hostname");
  const controller = openController(NAME, values, io);
  const by = values.by ?? io.env["USER"] ?? "cli";
  try {
    const unavailable = await controller.ready();
    if (unavailable !== undefined) {
      io.stderr(`commodore: ${unavailable}\n`);
      return EXIT_UNAVAILABLE;
    }
    const out = (data: unknown, lines: readonly string[]) =>
      io.stdout(
        values.json === true ? `${JSON.stringify(data, null, 2)}\n` : `${lines.join("\n")}\n`,
      );
    const enrollment = controller.executor.enrollment;
    const match = matchFor(
      clause.where,
      clause.filters.length > 0 ? { filters: clause.filters } : {},
    );
    const act: Record<Action, () => Promise<void>> = {
      list: async () => {
        const nodes = selectNodes(match, await controller.executor.nodes());
        out(nodes, nodes.length === 0 ? ["no accepted hosts"] : nodes.map(nodeLine));
      },
      pending: async () => {
        const nodes = selectNodes(match, await enrollment.unaccepted());
        out(nodes, nodes.length === 0 ? ["no host keys waiting"] : nodes.map(nodeLine));
      },
      accept: async () => {
        if (bulk) {
          const done = await enrollment.acceptMatching(match, by);
          out(done, [
            ...done.changes.map(changeLine),
            ...done.keyChanged.map(
              (n) =>
                `${n.hostname} ${n.fingerprint}: key changed, accept it by name after checking`,
            ),
            `${done.changes.length} accepted`,
          ]);
          return;
        }
        const c = await enrollment.accept(host ?? "", by, values.fingerprint);
        out(c, [changeLine(c)]);
      },
      reject: async () => {
        const c = await enrollment.reject(host ?? "", by);
        out(c, [changeLine(c)]);
      },
      revoke: async () => {
        const c = await enrollment.revoke(host ?? "", by);
        out(c, [changeLine(c)]);
      },
      retire: async () => {
        const c = await enrollment.retire(host ?? "", by);
        out(c, [changeLine(c)]);
      },
    };
    await act[action]();
    return 0;
  } finally {
    await controller.close();
  }
}

/** The `nodes` subcommand. */
export const command: CliCommand = {
  name: NAME,
  usage: `Usage: commodore nodes [list|pending|accept|reject|revoke|retire] [host] [options]

  list                      hosts whose keys are accepted (absent ones too: no heartbeat)
  pending                   hosts whose keys wait for acceptance, or were rejected
  accept HOST [--fingerprint SHA256:…]
                            accept the key HOST presents now (check the fingerprint on the
                            host first: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)
  accept --all-matching --where TERM…
                            accept every pending host matching the terms (not key changes)
  reject HOST               refuse the pending key HOST presents
  revoke HOST               withdraw HOST's accepted key (it can never answer again)
  retire HOST               decommission HOST: no longer expected in any answer (its key is
                            not rejected; a rebuilt host enrolls again)

Decisions are written to Redis signed with the controller key, so every controller and
replica sharing that key believes them and nothing a Redis writer adds counts.

Options:
${CONTROLLER_FLAGS_HELP}
  --where TERM          fact filter for list/pending/accept --all-matching, repeatable
  --by NAME             operator name recorded with the decision (default $USER)
  --json                print JSON`,
  run,
};
