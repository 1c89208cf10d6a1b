/**
 * Makes untrusted text (agent output, command echoes, error messages) safe to put in one IRC
 * message body.
 *
 * Line breaks become a visible `↵`, tabs become spaces, and every other C0/C1 control
 * character — including NUL and the mIRC formatting codes — is replaced by its Unicode
 * "control picture" (`␀`, `␛`…) or U+FFFD, so no output can end the current IRC line, start a
 * new command, or restyle the channel. Bidirectional overrides and lone surrogates go too.
 */

/** Shown where the input had a line break. */
export const LINE_BREAK_MARK = " ↵ ";
/** Shown for characters with no control picture. */
const REPLACEMENT = "\uFFFD";
/** U+2400 is the control picture for NUL; C0 code `c` maps to U+2400 + c. */
const CONTROL_PICTURES_BASE = 0x2400;
/** Control picture for DEL. */
const DEL_PICTURE = "\u2421";

const NEWLINES = /\r\n|\r|\n|\u2028|\u2029|\u0085/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function picture(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code === 0x09) return " ";
  if (code < 0x20) return String.fromCharCode(CONTROL_PICTURES_BASE + code);
  if (code === 0x7f) return DEL_PICTURE;
  return REPLACEMENT;
}

/** Returns `text` as one IRC-safe line: no CR, LF, NUL or other control characters. */
export function sanitizeLine(text: string): string {
  return text
    .replace(LONE_SURROGATE, REPLACEMENT)
    .replace(NEWLINES, LINE_BREAK_MARK)
    .replace(CONTROLS, picture)
    .replace(BIDI, REPLACEMENT);
}

/** Splits multi-line text into sanitized lines, dropping empty ones. */
export function sanitizeLines(text: string): string[] {
  return text
    .split(NEWLINES)
    .map((line) => sanitizeLine(line).trimEnd())
    .filter((line) => line.trim() !== "");
}

/** True when `text` can be sent as an IRC message body as-is. */
export function isIrcSafe(text: string): boolean {
  return sanitizeLine(text) === text;
}
