/**
 * Reads the last lines of a file without reading all of it: at most `maxBytes` from the end.
 */
import { open } from "node:fs/promises";
import { cleanText } from "./process.ts";

/** The tail of a file. */
export interface Tail {
  readonly lines: string[];
  /** True when the byte cap was reached before `count` whole lines were found. */
  readonly truncated: boolean;
}

/** The last `count` lines of `path`, reading no more than `maxBytes` from its end. */
export async function readTail(path: string, count: number, maxBytes: number): Promise<Tail> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const length = size - start;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, start);
    const lines = cleanText(buf.subarray(0, bytesRead).toString("utf8")).split("\n");
    if (lines.at(-1) === "") lines.pop();
    if (start > 0) lines.shift();
    const kept = lines.slice(-count);
    return { lines: kept, truncated: start > 0 && kept.length < count };
  } finally {
    await handle.close();
  }
}
