/**
 * Runs one command through the bot for an HTTP request and gathers what came back into one
 * outcome: a result, a pending confirmation or an error.
 */
import type { BotEvent, CommandHandler, CommandResult, Invocation } from "../../bot/contract.ts";

/** What one command produced, for a JSON response. */
export type HttpOutcome =
  | {
      readonly kind: "result";
      readonly jobId?: string;
      readonly ok: boolean;
      readonly result: CommandResult;
    }
  | { readonly kind: "confirm"; readonly event: Extract<BotEvent, { type: "confirm" }> }
  | {
      readonly kind: "error";
      readonly jobId?: string;
      readonly event: Extract<BotEvent, { type: "error" }>;
    };

/** Hands `invocation` to the bot and waits for it to finish. */
export async function runCommand(
  bot: CommandHandler,
  invocation: Invocation,
): Promise<HttpOutcome> {
  let outcome: HttpOutcome | undefined;
  let jobId: string | undefined;
  await bot.handle(invocation, (event) => {
    if (event.type === "accepted") jobId = event.jobId;
    else if (event.type === "result")
      outcome = {
        kind: "result",
        ok: event.ok,
        result: event.result,
        ...(event.jobId === undefined ? {} : { jobId: event.jobId }),
      };
    else if (event.type === "confirm") outcome = { kind: "confirm", event };
    else if (event.type === "error")
      outcome = { kind: "error", event, ...(jobId === undefined ? {} : { jobId }) };
  });
  return (
    outcome ?? {
      kind: "error",
      event: { type: "error", code: "E_INTERNAL", message: "the command produced no result" },
    }
  );
}
