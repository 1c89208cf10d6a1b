/**
 * Builders for the assistant's response envelope. Speech is always PlainText (never SSML), so
 * host output read aloud cannot inject markup.
 */
import type { VoiceIntent } from "./request.ts";
import type { Spoken } from "./speech.ts";

/** Longest spoken text sent; the assistant's limit is 8000 characters. */
export const MAX_SPEECH_CHARS = 1_000;
/** Longest card content sent; title and content together must stay under 8000. */
export const MAX_CARD_CHARS = 7_000;

type PlainText = { readonly type: "PlainText"; readonly text: string };

/** A `Dialog.ConfirmIntent` directive. */
export interface ConfirmIntentDirective {
  readonly type: "Dialog.ConfirmIntent";
  readonly updatedIntent: {
    readonly name: string;
    readonly confirmationStatus: "NONE";
    readonly slots: Readonly<
      Record<string, { name: string; value?: string; confirmationStatus: string }>
    >;
  };
}

/** The response envelope (the subset Commodore sends). */
export interface VoiceResponse {
  readonly version: "1.0";
  readonly sessionAttributes?: Readonly<Record<string, unknown>>;
  readonly response: {
    readonly outputSpeech?: PlainText;
    readonly card?: { readonly type: "Simple"; readonly title: string; readonly content: string };
    readonly reprompt?: { readonly outputSpeech: PlainText };
    readonly directives?: readonly ConfirmIntentDirective[];
    readonly shouldEndSession?: boolean;
  };
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Options of {@link say}. */
export interface SayOptions {
  /** End the session (default) or keep listening. */
  readonly end?: boolean;
  readonly card?: Pick<Spoken, "cardTitle" | "cardLines">;
  readonly reprompt?: string;
  readonly sessionAttributes?: Readonly<Record<string, unknown>>;
}

/** A spoken answer, optionally with a card, a reprompt and session attributes. */
export function say(text: string, options: SayOptions = {}): VoiceResponse {
  const card = options.card;
  return {
    version: "1.0",
    ...(options.sessionAttributes ? { sessionAttributes: options.sessionAttributes } : {}),
    response: {
      outputSpeech: { type: "PlainText", text: clip(text, MAX_SPEECH_CHARS) },
      ...(card
        ? {
            card: {
              type: "Simple",
              title: clip(card.cardTitle, 200),
              content: clip(card.cardLines.join("\n"), MAX_CARD_CHARS),
            },
          }
        : {}),
      ...(options.reprompt !== undefined
        ? { reprompt: { outputSpeech: { type: "PlainText", text: options.reprompt } } }
        : {}),
      shouldEndSession: options.end ?? true,
    },
  };
}

/** The empty answer to `SessionEndedRequest` (no speech is allowed there). */
export function silence(): VoiceResponse {
  return { version: "1.0", response: {} };
}

/** Asks the user to confirm `intent`; `attributes` come back with the answer. */
export function confirmIntent(
  intent: VoiceIntent,
  question: string,
  attributes: Readonly<Record<string, unknown>>,
): VoiceResponse {
  const slots = Object.fromEntries(
    Object.entries(intent.slots ?? {}).map(([name, slot]) => [
      name,
      {
        name,
        ...(slot.value !== undefined ? { value: slot.value } : {}),
        confirmationStatus: slot.confirmationStatus ?? "NONE",
      },
    ]),
  );
  return {
    version: "1.0",
    sessionAttributes: attributes,
    response: {
      outputSpeech: { type: "PlainText", text: clip(question, MAX_SPEECH_CHARS) },
      directives: [
        {
          type: "Dialog.ConfirmIntent",
          updatedIntent: { name: intent.name, confirmationStatus: "NONE", slots },
        },
      ],
      shouldEndSession: false,
    },
  };
}
