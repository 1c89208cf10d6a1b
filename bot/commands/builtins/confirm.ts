/** `confirm <code>`: runs a dangerous command that is waiting for confirmation. */
import type { CommandSpec } from "../types.ts";

/** Name the bot pipeline recognises as a confirmation. */
export const CONFIRM_COMMAND = "confirm";

/** Creates the `confirm` command; the bot pipeline swaps in the command being confirmed. */
export function confirmCommand(ttlSeconds: number): CommandSpec {
  return {
    name: CONFIRM_COMMAND,
    aliases: [],
    summary: `run a dangerous command you were asked to confirm (codes last ${Math.round(ttlSeconds / 60)} min)`,
    usage: "confirm <code>",
    examples: ["confirm k7m2qx"],
    args: [{ name: "code", kind: "word", required: true, help: "the code the bot gave you" }],
    takesWhere: false,
    permission: "everyone",
    risk: () => "read",
  };
}
