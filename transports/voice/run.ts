/**
 * Runs one invocation through the bot and waits for it no longer than the answer deadline.
 * A job still running at the deadline keeps running; only its late events are not spoken.
 */
import type { BotEvent, CommandHandler, Invocation } from "../../bot/contract.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";

/** How a run ended by the time the caller needs an answer. */
export type RunState =
  | { readonly kind: "finished"; readonly events: readonly BotEvent[] }
  | { readonly kind: "running"; readonly jobId: string | undefined };

/** Error code of the synthetic event when the handler itself throws. */
export const HANDLER_FAILED = "E_VOICE_HANDLER";

/** Hands `invocation` to `handler`, answering after it finishes or after `deadlineMs`. */
export async function runWithDeadline(
  handler: CommandHandler,
  invocation: Invocation,
  deadlineMs: number,
  log: Logger,
): Promise<RunState> {
  const events: BotEvent[] = [];
  let answered = false;
  const sink = (event: BotEvent): void => {
    if (!answered) events.push(event);
  };
  const finished = handler.handle(invocation, sink).then(
    () => "finished" as const,
    (err: unknown) => {
      log.error("voice command failed in the bot", { error: errorMessage(err) });
      sink({ type: "error", code: HANDLER_FAILED, message: "the command failed unexpectedly" });
      return "finished" as const;
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), deadlineMs);
  });
  const first = await Promise.race([finished, deadline]);
  clearTimeout(timer);
  answered = true;
  if (first === "finished") return { kind: "finished", events };
  const accepted = events.find((e) => e.type === "accepted");
  void finished.then(() =>
    log.info("voice job finished after the answer", { jobId: accepted?.jobId }),
  );
  return { kind: "running", jobId: accepted?.jobId };
}
