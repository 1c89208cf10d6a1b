/**
 * Who may read a job outside the `job` command itself — IRC's `more <job>` (cached output):
 * exactly who may run `job <id>`, decided by the same parser and policy, so grants, default
 * roles and refusal messages are the ones `job` gives.
 */
import { CommodoreError } from "../../lib/errors.ts";
import type { BotEvent, Principal } from "../contract.ts";
import type { Policy } from "../permissions/policy.ts";
import { parseCommand } from "./parse.ts";
import type { CommandRegistry } from "./registry.ts";
import { quoteWords } from "./tokenize.ts";

/** A refusal, shaped like the bot's own `error` event so transports format it the same way. */
export type JobReadDenial = Extract<BotEvent, { type: "error" }>;

/** Why `principal` may not read job `jobId`, or undefined when they may. */
export type JobReadCheck = (principal: Principal, jobId: string) => JobReadDenial | undefined;

/** The check for `job <id>` under `policy`, with the commands of `registry`. */
export function jobReadCheck(policy: Policy, registry: CommandRegistry): JobReadCheck {
  return (principal, jobId) => {
    try {
      const cmd = parseCommand(quoteWords(["job", jobId]), registry);
      policy.authorize(principal, cmd, cmd.spec.risk(cmd));
      return undefined;
    } catch (err) {
      if (!(err instanceof CommodoreError)) throw err;
      return err.hint === undefined
        ? { type: "error", code: err.code, message: err.message }
        : { type: "error", code: err.code, message: err.message, hint: err.hint };
    }
  };
}
