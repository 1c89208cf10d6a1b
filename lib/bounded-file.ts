/**
 * Files read whole at start-up or on reload — trust files (allowed_signers, known_hosts),
 * private keys, password files — read within bounds, so that neither a huge file nor a FIFO or
 * device put in a file's place can hold a process: at most `maxBytes + 1` bytes are read, only
 * regular files are read at all (a FIFO is opened without waiting for a writer, then refused),
 * and {@link boundedLines} walks the text once, refusing too many or too long lines. Every
 * refusal goes through the caller's `fail`, which turns it into the caller's own typed error
 * naming the file and, where there is one, the line.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";

/** Bytes read per system call. */
const READ_CHUNK_BYTES = 64 * 1024;
/** `\n`. */
const NEWLINE = 0x0a;
/** Opened for reading without blocking on a FIFO and without becoming a controlling terminal. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Builds the caller's error for a refused file: `line` (1-based) when the problem sits at a
 * line, else `message` is why the file cannot be read at all (an errno code such as `ENOENT`,
 * or `not a regular file (a FIFO)`).
 */
export type BoundsFailure = (message: string, line?: number) => Error;

/** A file read whole. */
export interface BoundedFile {
  readonly data: Buffer;
  /** The file's status, taken from the open descriptor that was read. */
  readonly stats: Stats;
}

/** Limits on the lines of a text. */
export interface LineBounds {
  /** Most lines, blank and comment lines included. */
  readonly maxLines: number;
  /** Longest line in characters, without its line break. */
  readonly maxLineLength: number;
}

/** What a file is, for the refusal of anything but a regular file. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a plain file";
}

/** The 1-based line that byte `offset` of `data` falls on. */
export function lineAtOffset(data: Buffer, offset: number): number {
  let line = 1;
  for (let at = data.indexOf(NEWLINE); at !== -1 && at < offset; at = data.indexOf(NEWLINE, at + 1))
    line++;
  return line;
}

/** Shows a byte count as the size people write it (`4 MiB`, `64 KiB`, `100 bytes`). */
export function formatBytes(bytes: number): string {
  const KIB = 1024;
  const MIB = KIB * KIB;
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} bytes`;
}

/**
 * Reads the regular file at `path`, at most `maxBytes` of it: a larger one is refused at the
 * line where it passes the limit, without reading further.
 */
export function readBoundedFile(path: string, maxBytes: number, fail: BoundsFailure): BoundedFile {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    throw fail((err as NodeJS.ErrnoException).code ?? "error");
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw fail(`not a regular file (${kindOf(stats)})`);
    const limit = maxBytes + 1;
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < limit) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, limit - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        throw fail((err as NodeJS.ErrnoException).code ?? "error");
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    const data = Buffer.concat(chunks, total);
    if (total > maxBytes)
      throw fail(
        `the file is larger than ${formatBytes(maxBytes)}, the most it may hold`,
        lineAtOffset(data, maxBytes),
      );
    return { data, stats };
  } finally {
    closeSync(fd);
  }
}

/**
 * Why `path` cannot be read as a regular file (`ENOENT`, `EACCES`, `not a regular file (a
 * FIFO)`), or undefined when it can: it is opened (so permissions are what decides) and closed
 * unread.
 */
export function unreadableFileReason(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? "error";
  }
  try {
    const stats = fstatSync(fd);
    return stats.isFile() ? undefined : `not a regular file (${kindOf(stats)})`;
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines of `text` with their 1-based numbers (`\n` or `\r\n` ends a line), in one pass;
 * refuses the first line past `bounds.maxLines` and any line longer than `bounds.maxLineLength`.
 */
export function* boundedLines(
  text: string,
  bounds: LineBounds,
  fail: BoundsFailure,
): Generator<readonly [number, string]> {
  let start = 0;
  for (let number = 1; start <= text.length; number++) {
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? text.length : newline;
    if (newline === -1 && start === end && number > 1) return;
    if (number > bounds.maxLines)
      throw fail(`more than ${bounds.maxLines} lines, the most the file may have`, number);
    const length = end > start && text.charCodeAt(end - 1) === 0x0d ? end - 1 - start : end - start;
    if (length > bounds.maxLineLength)
      throw fail(
        `the line is ${length} characters long, longer than the ${bounds.maxLineLength} a line may be`,
        number,
      );
    yield [number, text.slice(start, start + length)];
    start = end + 1;
  }
}
