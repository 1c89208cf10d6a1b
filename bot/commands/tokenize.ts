/**
 * Splits command text into words, honouring single and double quotes and backslash escapes,
 * and renders words back into text that tokenizes to the same words.
 */
import { CommandSyntaxError } from "./errors.ts";

/** Longest command text the bot accepts, in characters. */
export const MAX_COMMAND_LENGTH = 4_096;

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./*?[\]!-]+$/;

/** Splits `text` into words. `"a b"` and `'a b'` are one word; `\x` escapes x outside single quotes. */
export function tokenize(text: string): string[] {
  if (text.length > MAX_COMMAND_LENGTH) {
    throw new CommandSyntaxError(
      `command is ${text.length} characters long, the limit is ${MAX_COMMAND_LENGTH}`,
    );
  }
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  let quoteStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < text.length) current += text[++i] ?? "";
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      quoteStart = i;
      inWord = true;
    } else if (ch === "\\" && i + 1 < text.length) {
      current += text[++i] ?? "";
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) {
    throw new CommandSyntaxError(
      `unterminated ${quote === '"' ? "double" : "single"} quote starting at character ${quoteStart + 1}`,
      `close the quote with ${quote}`,
    );
  }
  if (inWord) words.push(current);
  return words;
}

/** Renders words as command text, quoting where needed; `tokenize(quoteWords(w))` equals `w`. */
export function quoteWords(words: readonly string[]): string {
  return words.map((w) => (SAFE_WORD.test(w) ? w : `'${w.replace(/'/g, `'"'"'`)}'`)).join(" ");
}
