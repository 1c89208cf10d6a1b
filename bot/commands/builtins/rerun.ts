/** `rerun <job> [failed|silent|all]`: repeats a fleet job on that subset of its hosts. */
import { RERUN_COMMAND, RERUN_SUBSETS } from "../../pipeline/rerun.ts";
import type { CommandSpec } from "../types.ts";

/** Creates the `rerun` command; the bot pipeline swaps in the job's command (pipeline/rerun.ts). */
export function rerunCommand(): CommandSpec {
  return {
    name: RERUN_COMMAND,
    aliases: [],
    summary: "repeat a fleet job on its failed (default), silent or all hosts, as a new job",
    usage: "rerun <job> [failed|silent|all]",
    examples: ["rerun j3fa9c01b7e42", "rerun j3fa9c01b7e42 silent"],
    args: [
      { name: "job", kind: "word", required: true, help: "the job id, e.g. j3fa9c01b7e42" },
      {
        name: "subset",
        kind: "word",
        required: false,
        help: "failed (exit ≠ 0), silent (no ack or no result) or all",
        choices: () => RERUN_SUBSETS,
      },
    ],
    takesWhere: false,
    // Reading the job needs the `job` permission, and the rerun command itself is authorized
    // like any new command from the caller; the rerun word grants nothing by itself.
    permission: "everyone",
    risk: () => "read",
  };
}
