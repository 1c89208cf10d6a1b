/**
 * Turns a configured intent and the slots the assistant heard into command text.
 *
 * A slot's value is its entity-resolution id when resolution matched, else the spoken value,
 * lowercased. It must be one safe word from the slot's allow-list, so substituting it into the
 * template can never add words, quotes or `where` clauses to the command.
 */
import { SLOT_VALUE, PLACEHOLDER } from "./options.ts";
import type { IntentOptions } from "./options.ts";
import type { VoiceIntent, VoiceSlot } from "./request.ts";

const ER_MATCH = "ER_SUCCESS_MATCH";

/** The outcome of mapping an intent to a command. */
export type IntentCommand =
  | { readonly ok: true; readonly command: string }
  | {
      readonly ok: false;
      /** `missing`: no value and no default; `not-allowed`: a value outside the allow-list. */
      readonly problem: "missing" | "not-allowed";
      readonly slot: string;
      readonly allowed: readonly string[];
    };

/** The value of a slot: the first matched entity-resolution id, else the spoken value. */
export function slotValue(slot: VoiceSlot | undefined): string | undefined {
  if (slot === undefined) return undefined;
  for (const authority of slot.resolutions?.resolutionsPerAuthority ?? []) {
    const id = authority.status.code === ER_MATCH ? authority.values?.[0]?.value.id : undefined;
    if (id !== undefined && id.trim() !== "") return id.trim().toLowerCase();
  }
  const raw = slot.value?.trim().toLowerCase();
  return raw === undefined || raw === "" ? undefined : raw;
}

/** Maps an intent to command text using the intent's template and slot allow-lists. */
export function intentCommand(options: IntentOptions, intent: VoiceIntent): IntentCommand {
  const values = new Map<string, string>();
  for (const [name, slotOptions] of Object.entries(options.slots)) {
    const value = slotValue(intent.slots?.[name]) ?? slotOptions.default;
    if (value === undefined)
      return { ok: false, problem: "missing", slot: name, allowed: slotOptions.allow };
    if (!SLOT_VALUE.test(value) || !slotOptions.allow.includes(value))
      return { ok: false, problem: "not-allowed", slot: name, allowed: slotOptions.allow };
    values.set(name, value);
  }
  const command = options.command.replace(
    PLACEHOLDER,
    (_match, name: string) => values.get(name) ?? "",
  );
  return { ok: true, command };
}
