/**
 * The assistant's built-in requests and intents: launch greeting, help, stop, cancel,
 * fallback and session end.
 */
import type { VoiceOptions } from "./options.ts";
import { say, silence } from "./response.ts";
import type { VoiceResponse } from "./response.ts";

/** Built-in intent names. */
const HELP_INTENT = "AMAZON.HelpIntent";
const STOP_INTENT = "AMAZON.StopIntent";
const CANCEL_INTENT = "AMAZON.CancelIntent";
const FALLBACK_INTENT = "AMAZON.FallbackIntent";

const REPROMPT = "What would you like? Say help to hear what I can do.";

/** What the configured intents do, for help: descriptions, or intent names. */
function capabilities(options: VoiceOptions): string[] {
  return Object.entries(options.intents).map(([name, intent]) => intent.description ?? name);
}

/** Greeting for `LaunchRequest`; keeps the session open. */
function launchAnswer(options: VoiceOptions): VoiceResponse {
  return say(`${options.skillName} here. What would you like?`, { end: false, reprompt: REPROMPT });
}

/** Help: lists the configured intents; keeps the session open. */
function helpAnswer(options: VoiceOptions): VoiceResponse {
  const can = capabilities(options);
  const speech =
    can.length === 0
      ? "No voice commands are configured yet."
      : `You can ask me to: ${can.join("; ")}. Say stop to finish.`;
  return say(speech, {
    end: can.length === 0,
    reprompt: REPROMPT,
    card: { cardTitle: `${options.skillName} voice commands`, cardLines: can },
  });
}

/** Fallback for speech that matched no intent; keeps the session open. */
export function fallbackAnswer(): VoiceResponse {
  return say("Sorry, I can't help with that. Say help to hear what I can do.", {
    end: false,
    reprompt: REPROMPT,
  });
}

/**
 * Answers a built-in request or intent; undefined when `type`/`intentName` is not a built-in.
 * `SessionEndedRequest` and unknown request types get an empty response.
 */
export function builtinAnswer(
  options: VoiceOptions,
  type: string,
  intentName: string | undefined,
): VoiceResponse | undefined {
  if (type === "LaunchRequest") return launchAnswer(options);
  if (type !== "IntentRequest") return silence();
  switch (intentName) {
    case HELP_INTENT:
      return helpAnswer(options);
    case STOP_INTENT:
    case CANCEL_INTENT:
      return say("Goodbye.");
    case FALLBACK_INTENT:
      return fallbackAnswer();
    default:
      return undefined;
  }
}
