/**
 * Per-host run logs: `<logDir>/<host>/<ISO timestamp>.log`, one file per attempt, never
 * overwritten (a same-millisecond collision gets a `-N` suffix).
 */
import { createWriteStream, mkdirSync, openSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../../lib/log.ts";
import { safeName } from "./target.ts";

const LOG_DIR_MODE = 0o750;
const LOG_FILE_MODE = 0o640;

/** Creates the next log file for `host` and returns its path and an open stream. */
export function openRunLog(
  logDir: string,
  host: string,
  logger: Logger,
): { path: string; stream: WriteStream } {
  const dir = join(logDir, safeName(host));
  mkdirSync(dir, { recursive: true, mode: LOG_DIR_MODE });
  const stamp = new Date().toISOString();
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? `${stamp}.log` : `${stamp}-${n}.log`);
    let fd: number;
    try {
      fd = openSync(path, "wx", LOG_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    const stream = createWriteStream(path, { fd });
    stream.on("error", (e) =>
      logger.warn("provision log write failed", { path, error: e.message }),
    );
    return { path, stream };
  }
}
