/**
 * Live progress of `commodore fleet`: each host's line on stdout the moment it is final (so a
 * pipe sees results as they come, not all at the end), and on a terminal a status line on
 * stderr, rewritten in place, with acknowledged / done / failed counts and, for batched
 * rollouts, how many hosts were started. Colour unless `NO_COLOR` is set; `--json` prints
 * none of this.
 */
import type { FleetProgress, HostResult } from "../executors/fleet/index.ts";
import type { CliIo } from "./command.ts";

/** ANSI: back to the line's start and clear it. */
const CLEAR_LINE = "\r\x1b[2K";
const GREEN = "\x1b[32m";
const RED = "\x1b[31m";
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

/** One host's result line, e.g. `www01: pong` or `db01: [exit 3] …`. */
export function hostLine(h: HostResult): string {
  if (h.status === "ok") return `${h.hostname}: ${h.short}`;
  const label = h.status === "failed" ? `exit ${h.exit ?? "?"}` : h.status.replace("_", " ");
  return `${h.hostname}: [${label}] ${h.short}`;
}

/** Receives progress; `end` clears the status line before the summary is printed. */
export interface LiveProgress {
  readonly onProgress: (e: FleetProgress) => void;
  end(): void;
}

/** Live progress for `io`; `ackTimeoutMs` is quoted in the first line, as the original did. */
export function liveProgress(
  io: CliIo,
  ackTimeoutMs: number,
  options: { readonly hostLines: boolean } = { hostLines: true },
): LiveProgress {
  const status = io.stderrIsTty === true;
  const colour = status && io.env["NO_COLOR"] === undefined;
  const paint = (code: string, text: string) => (colour ? `${code}${text}${RESET}` : text);
  let expected = 0;
  let started = 0;
  let batches = 0;
  let acked = 0;
  let done = 0;
  let failed = 0;
  let shown = false;
  const draw = () => {
    if (!status) return;
    const parts = [
      `acked ${acked}/${expected}`,
      paint(GREEN, `done ${done}`),
      paint(failed > 0 ? RED : DIM, `failed ${failed}`),
      ...(batches > 1 ? [`started ${started} (batch ${batches})`] : []),
    ];
    io.stderr(`${CLEAR_LINE}${parts.join("  ")}`);
    shown = true;
  };
  const clear = () => {
    if (shown) io.stderr(CLEAR_LINE);
    shown = false;
  };
  return {
    onProgress(e) {
      switch (e.kind) {
        case "published":
          batches++;
          started += e.expected.length;
          expected = Math.max(expected, started);
          clear();
          io.stdout(
            `accepting acknowledgements for ${ackTimeoutMs} ms from ${e.expected.length} expected hosts\n`,
          );
          break;
        case "ack":
          acked++;
          break;
        case "host":
          done++;
          if (e.result.status !== "ok") failed++;
          if (options.hostLines) {
            clear();
            io.stdout(`${hostLine(e.result)}\n`);
          }
          break;
        case "noop":
          return;
      }
      draw();
    },
    end: clear,
  };
}
