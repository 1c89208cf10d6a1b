/**
 * Splits a line into pieces that fit one IRC message, measured in UTF-8 bytes.
 *
 * Pieces never end inside a multi-byte character or a surrogate pair, and break at the last
 * space when one is reasonably close to the limit, so words stay whole where possible.
 */

/** A space earlier than this fraction of the limit is not worth breaking at. */
const MIN_WORD_BREAK_FRACTION = 0.5;

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/** UTF-8 byte length of `text`. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Splits `text` into pieces of at most `maxBytes` UTF-8 bytes each (`maxBytes` ≥ 4). */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (maxBytes < 4) throw new RangeError(`maxBytes must be at least 4, got ${maxBytes}`);
  const pieces: string[] = [];
  let rest = text;
  while (byteLength(rest) > maxBytes) {
    let bytes = 0;
    let cut = 0;
    let lastSpace = -1;
    let lastSpaceBytes = 0;
    for (const ch of rest) {
      const size = utf8Length(ch.codePointAt(0) ?? 0);
      if (bytes + size > maxBytes) break;
      if (ch === " ") {
        lastSpace = cut;
        lastSpaceBytes = bytes;
      }
      bytes += size;
      cut += ch.length;
    }
    if (lastSpace > 0 && lastSpaceBytes >= maxBytes * MIN_WORD_BREAK_FRACTION) {
      pieces.push(rest.slice(0, lastSpace));
      rest = rest.slice(lastSpace + 1);
    } else {
      pieces.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
  }
  if (rest !== "" || pieces.length === 0) pieces.push(rest);
  return pieces;
}
