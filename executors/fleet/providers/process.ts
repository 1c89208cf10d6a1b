/**
 * The one way providers run programs: a fixed argv (never a shell), a minimal environment, the
 * child leading its own process group so a timeout or abort can stop it and everything it
 * spawned (SIGTERM to the group, SIGKILL after a grace period), and output kept to the last N
 * bytes per stream with a `truncated` flag.
 */
import { spawnGroup } from "../../../lib/process-group.ts";
import { constants } from "node:os";

/** PATH given to every child. */
export const SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Default time between SIGTERM and SIGKILL to the group. */
export const DEFAULT_KILL_GRACE_MS = 2_000;
/** Exit reported when the program timed out (as timeout(1)). */
export const EXIT_TIMED_OUT = 124;
/** Exit reported when the program could not be started (as a shell's "not found"). */
export const EXIT_NOT_STARTED = 127;
/** How long to wait for the output pipes after the program exited (a daemon may hold them). */
const DRAIN_MS = 200;
const SIGNAL_EXIT_BASE = 128;

/** What to run. */
export interface ProcessSpec {
  readonly argv: readonly [string, ...string[]];
  readonly timeoutMs: number;
  /** Aborting stops the program like a timeout does. */
  readonly signal: AbortSignal;
  /** Bytes kept per stream (the last ones). */
  readonly maxOutputBytes: number;
  /** Extra environment on top of PATH and LANG (fixed by configuration, never by requests). */
  readonly env?: Readonly<Record<string, string>>;
  readonly killGraceMs?: number;
}

/** How it went. */
export interface ProcessResult {
  /** Exit status; 128+N for signal N, 124 on timeout, 127 when it could not start. */
  readonly exit: number;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** True when either stream was longer than the cap and its beginning was dropped. */
  readonly truncated: boolean;
  readonly durationMs: number;
  /** Process (and group) id of the program, when it started. */
  readonly pid?: number;
}

/** Keeps the last `max` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = false;
  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - (this.chunks[0]?.length ?? 0) >= this.max) {
      this.size -= this.chunks.shift()?.length ?? 0;
      this.dropped = true;
    }
  }

  text(): string {
    let all = Buffer.concat(this.chunks);
    if (all.length > this.max) {
      all = all.subarray(all.length - this.max);
      this.dropped = true;
    }
    return cleanText(all.toString("utf8"));
  }
}

/** Drops a partial leading character and replaces control characters other than \n and \t. */
export function cleanText(text: string): string {
  return text.replace(/^\uFFFD+/, "").replace(/[^\P{Cc}\n\t]/gu, "?");
}

/** Runs `spec.argv`; always resolves. */
export function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  const started = performance.now();
  const out = new TailBuffer(spec.maxOutputBytes);
  const err = new TailBuffer(spec.maxOutputBytes);
  return new Promise((resolve) => {
    const [file, ...args] = spec.argv;
    const group = spawnGroup(
      file,
      args,
      {
        cwd: "/",
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: SAFE_PATH, LANG: "C", ...spec.env },
      },
      spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    );
    const child = group.child;
    let timedOut = false;
    let settled = false;
    const terminate = () => group.terminate();
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, spec.timeoutMs);
    spec.signal.addEventListener("abort", terminate, { once: true });
    const finish = (exit: number, extraErr?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      spec.signal.removeEventListener("abort", terminate);
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (extraErr !== undefined) err.push(Buffer.from(extraErr));
      resolve({
        exit: timedOut ? EXIT_TIMED_OUT : exit,
        timedOut,
        stdout: out.text(),
        stderr: err.text(),
        truncated: out.dropped || err.dropped,
        durationMs: Math.round(performance.now() - started),
        ...(child.pid === undefined ? {} : { pid: child.pid }),
      });
    };
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => finish(EXIT_NOT_STARTED, `cannot run ${file}: ${e.message}`));
    child.on("exit", (code, sig) => {
      const exit = code ?? SIGNAL_EXIT_BASE + (sig ? (constants.signals[sig] ?? 0) : 0);
      const drain = setTimeout(() => finish(exit), DRAIN_MS);
      child.on("close", () => {
        clearTimeout(drain);
        finish(exit);
      });
    });
    if (spec.signal.aborted) terminate();
  });
}
