/**
 * Reads the last lines of a file without reading all of it: at most `maxBytes` from the end.
 *
 * Only the configured file itself is read, never what a symbolic link makes of it: the last
 * component is opened with O_NOFOLLOW, and the opened descriptor must be a regular file whose
 * path (as the kernel reports it for the descriptor, so a swap after the open changes nothing)
 * is the configured path. A symlink planted as the file or as one of its directories is
 * therefore refused rather than followed to, say, /etc/shadow.
 */
import { constants } from "node:fs";
import { open, readlink, realpath, stat, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import { CommodoreError } from "../../../lib/errors.ts";
import { cleanText } from "./process.ts";

/** Flags: read-only, never through a final symlink, never blocking on a FIFO or a terminal. */
const OPEN_FLAGS =
  constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
/** errno of open(2) with O_NOFOLLOW on a symlink: ELOOP on Linux, EMLINK on the BSDs. */
const SYMLINK_ERRNOS: ReadonlySet<string> = new Set(["ELOOP", "EMLINK"]);
/** Where Linux shows the path behind an open descriptor. */
const PROC_FD_DIR = "/proc/self/fd";

/** The tail of a file. */
export interface Tail {
  readonly lines: string[];
  /** True when the byte cap was reached before `count` whole lines were found. */
  readonly truncated: boolean;
}

/**
 * The configured file is not what would be read: it is a symbolic link, lies behind one, or is
 * not a regular file. Never carries anything read from the file.
 */
export class FileRefusedError extends CommodoreError {
  constructor(path: string, why: string) {
    super("E_FLEET_FILE_REFUSED", `${path} ${why}`, {
      hint: "only the configured path itself is read; configure the file's real path",
    });
  }
}

/** The kernel's path of an open descriptor, or undefined where procfs is not mounted. */
async function descriptorPath(handle: FileHandle): Promise<string | undefined> {
  try {
    return await readlink(`${PROC_FD_DIR}/${handle.fd}`);
  } catch {
    return undefined;
  }
}

/** True when the file opened as `handle` is exactly the file at the canonical path `expected`. */
async function isConfiguredFile(handle: FileHandle, expected: string): Promise<boolean> {
  const actual = await descriptorPath(handle);
  if (actual !== undefined) return actual === expected;
  // Without procfs: the canonical path must be the configured one and name the opened file.
  if ((await realpath(expected)) !== expected) return false;
  const [opened, named] = await Promise.all([handle.stat(), stat(expected)]);
  return opened.dev === named.dev && opened.ino === named.ino;
}

/**
 * Opens `path` for reading only if it is a regular file reached without any symbolic link;
 * throws {@link FileRefusedError} otherwise (and the usual errno errors when it cannot be read).
 */
export async function openConfiguredFile(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    if (SYMLINK_ERRNOS.has((err as NodeJS.ErrnoException).code ?? ""))
      throw new FileRefusedError(path, "is a symbolic link");
    throw err;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new FileRefusedError(path, "is not a regular file");
    if (!(await isConfiguredFile(handle, resolve(path))))
      throw new FileRefusedError(
        path,
        "resolves to another file (a symbolic link in its directories, or it was moved)",
      );
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The last `count` lines of `path`, reading no more than `maxBytes` from its end. */
export async function readTail(path: string, count: number, maxBytes: number): Promise<Tail> {
  const handle = await openConfiguredFile(path);
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
