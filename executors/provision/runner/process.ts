/**
 * Running ansible-playbook: argv only (never a shell), its own process group so a timeout or
 * cancellation kills the whole tree, output copied to the run log and captured (bounded).
 */
import type { WriteStream } from "node:fs";
import { spawnGroup } from "../../../lib/process-group.ts";

/** Grace between SIGTERM and SIGKILL for the process group. */
export const KILL_GRACE_MS = 3_000;
/** Most stdout kept in memory for parsing (the log gets everything). */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

/** Inputs of {@link runProcess}. */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly log: WriteStream;
}

/** How the process ended. */
export interface ProcessResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  /** Last part of stderr, for error messages. */
  readonly stderrTail: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** Set when the program could not be started (e.g. ENOENT). */
  readonly spawnError?: string;
}

const STDERR_TAIL = 2_000;

/** Runs the process to completion, timeout or abort; never rejects. */
export async function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  return await new Promise<ProcessResult>((resolve) => {
    const group = spawnGroup(
      spec.command,
      spec.args,
      { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe"] },
      KILL_GRACE_MS,
    );
    const child = group.child;
    const chunks: Buffer[] = [];
    let captured = 0;
    let stderrTail = "";
    let timedOut = false;
    let aborted = false;
    const stop = (why: "timeout" | "abort") => {
      if (why === "timeout") timedOut = true;
      else aborted = true;
      group.terminate();
    };
    const timer = setTimeout(() => stop("timeout"), spec.timeoutMs);
    const onAbort = () => stop("abort");
    if (spec.signal.aborted) onAbort();
    else spec.signal.addEventListener("abort", onAbort, { once: true });
    child.stdout?.on("data", (chunk: Buffer) => {
      spec.log.write(chunk);
      if (captured < MAX_CAPTURE_BYTES) chunks.push(chunk);
      captured += chunk.length;
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      spec.log.write(chunk);
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    let done = false;
    const finish = (exitCode: number | null, spawnError?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      spec.signal.removeEventListener("abort", onAbort);
      const base = {
        exitCode,
        stdout: Buffer.concat(chunks).toString("utf8"),
        stderrTail,
        timedOut,
        aborted,
      };
      resolve(spawnError === undefined ? base : { ...base, spawnError });
    };
    child.on("error", (err: NodeJS.ErrnoException) => finish(null, err.code ?? err.message));
    child.on("close", (code) => {
      // The leader is gone; make sure no straggler in its group survives.
      group.reap();
      finish(code);
    });
  });
}
