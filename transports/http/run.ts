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

/** A command started without waiting: its job, or the outcome when it ended without one. */
export type StartedCommand =
  | { readonly kind: "started"; readonly jobId: string }
  | { readonly kind: "done"; readonly outcome: HttpOutcome };

/**
 * Hands `invocation` to the bot and resolves as soon as it has a job (the command keeps
 * running in the background; its progress and result are on the job), or with the whole
 * outcome when it ends without one (refused, waiting for confirmation).
 */
export async function startCommand(
  bot: CommandHandler,
  invocation: Invocation,
): Promise<StartedCommand> {
  return await new Promise<StartedCommand>((resolve) => {
    let started = false;
    const events: BotEvent[] = [];
    const replay: CommandHandler = {
      handle: async (_inv, sink) => {
        for (const e of events) sink(e);
      },
    };
    void bot
      .handle(invocation, (event) => {
        if (started) return;
        if (event.type === "accepted") {
          started = true;
          resolve({ kind: "started", jobId: event.jobId });
          return;
        }
        events.push(event);
      })
      .then(async () => {
        if (!started) resolve({ kind: "done", outcome: await runCommand(replay, invocation) });
      });
  });
}

/** True when the request asks for an asynchronous answer (`Prefer: respond-async`, RFC 7240). */
export function prefersAsync(prefer: string | undefined): boolean {
  return (prefer ?? "")
    .split(",")
    .some((p) => p.trim().split(";")[0]?.trim().toLowerCase() === "respond-async");
}
