/**
 * The logger of a long-running subcommand (`start`, `agent`): JSON lines on stderr, with syslog
 * priority prefixes under systemd's journal and a human format on a terminal (lib/log.ts).
 */
import { createLogger, detectLogFormat, type LogLevel, type Logger } from "../lib/log.ts";
import type { CliIo } from "./command.ts";

/** File descriptor of stderr, which `JOURNAL_STREAM` is compared with. */
const STDERR_FD = 2;

/** A logger writing to `io.stderr` in the format that fits where stderr goes. */
export function processLogger(level: LogLevel, io: CliIo): Logger {
  const format = detectLogFormat(io.env, STDERR_FD, process.stderr.isTTY === true);
  return createLogger({
    level,
    format,
    colour: format === "human" && io.env["NO_COLOR"] === undefined,
    sink: (line) => io.stderr(`${line}\n`),
  });
}
