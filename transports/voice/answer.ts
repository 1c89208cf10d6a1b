/**
 * Turns what the bot said about one invocation into a spoken answer with a card.
 */
import type { BotEvent } from "../../bot/contract.ts";
import { say } from "./response.ts";
import type { VoiceResponse } from "./response.ts";
import type { RunState } from "./run.ts";
import { resultSpeech } from "./speech.ts";

type Terminal = Extract<BotEvent, { type: "result" | "error" | "confirm" }>;

function isTerminal(event: BotEvent): event is Terminal {
  return event.type === "result" || event.type === "error" || event.type === "confirm";
}

function terminalAnswer(event: Terminal): VoiceResponse {
  switch (event.type) {
    case "result": {
      const spoken = resultSpeech(event.result);
      return say(spoken.speech, { card: spoken });
    }
    case "error":
      return say(`I couldn't do that: ${event.message.replace(/[.!?]+$/, "")}.`, {
        card: {
          cardTitle: event.code,
          cardLines: [event.message, ...(event.hint !== undefined ? [event.hint] : [])],
        },
      });
    case "confirm": {
      const who = event.needsOtherPerson ? "another person must confirm it" : "confirm it";
      return say(
        `That command needs confirmation on another channel: ${who} with code ${event.code}.`,
        {
          card: {
            cardTitle: `confirm ${event.code}`,
            cardLines: [event.summary, `expires ${event.expiresAt}`],
          },
        },
      );
    }
  }
}

/** The answer for a run: the last result, error or confirmation; or that the job still runs. */
export function answerFor(state: RunState, command: string): VoiceResponse {
  if (state.kind === "running") {
    const job = state.jobId === undefined ? "the command" : `job ${state.jobId}`;
    return say(`I started ${job}; it is still running.`, {
      card: { cardTitle: job, cardLines: [`${command} is still running`] },
    });
  }
  const last = [...state.events].reverse().find(isTerminal);
  if (last !== undefined) return terminalAnswer(last);
  const accepted = state.events.find((e) => e.type === "accepted");
  return say(accepted ? `Job ${accepted.jobId} finished.` : "Done.");
}
