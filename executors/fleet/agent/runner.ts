/**
 * Runs providers with bounded concurrency and a hard timeout. Whatever happens — unknown
 * provider, bad arguments, a provider that throws or never settles, a full queue — the caller
 * gets an output with a non-zero `exit` and a clear `short`; nothing escapes as an exception.
 */
import { errorMessage } from "../../../lib/errors.ts";
import {
  EXIT_NOPERM,
  ProviderArgsError,
  type ProviderContext,
  type ProviderOutput,
  type ProviderRegistry,
} from "../providers/provider.ts";

/** Exit codes for failures the agent reports on a provider's behalf. */
export const EXIT = {
  /** Arguments rejected (sysexits EX_USAGE). */
  badArgs: 64,
  /** Provider threw (EX_SOFTWARE). */
  crashed: 70,
  /** Not authorized (EX_NOPERM). */
  refused: EXIT_NOPERM,
  /** Queue full (EX_TEMPFAIL). */
  busy: 75,
  /** Timed out (as timeout(1)). */
  timeout: 124,
  /** The agent stopped while the provider ran (128 + SIGTERM). */
  stopped: 143,
  /** A signed cancel stopped the provider (128 + SIGINT, as a shell reports Ctrl-C). */
  cancelled: 130,
  /** No such provider (as a shell's "command not found"). */
  unknown: 127,
} as const;

/**
 * Longest a cancelled provider is waited for before the cancel is reported anyway: the process
 * group gets SIGTERM, then SIGKILL after the kill grace (providers/process.ts, 2 s).
 */
export const CANCEL_SETTLE_MS = 3_000;

/** One execution to run. */
export interface RunSpec {
  readonly provider: string;
  readonly args: readonly string[];
  /** Requested timeout; capped at the runner's maximum. */
  readonly timeoutMs: number | undefined;
  readonly context: Omit<ProviderContext, "signal">;
  /**
   * Aborted by a signed cancel: the provider is stopped (its process group killed) and the
   * output says `cancelled: true`; a spec still queued never starts.
   */
  readonly cancel?: AbortSignal;
}

/** The output of a run a signed cancel stopped. */
function cancelledOutput(by: string): ProviderOutput {
  return { exit: EXIT.cancelled, short: `cancelled by ${by}`, cancelled: true };
}

/** Who a cancel signal's reason names (the agent aborts it with the canceller's name). */
function cancelledBy(signal: AbortSignal): string {
  return typeof signal.reason === "string" ? signal.reason : "the controller";
}

/** A provider runner with a concurrency limit. */
export class ProviderRunner {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly stopping = new AbortController();

  constructor(
    private readonly providers: ProviderRegistry,
    private readonly limits: { concurrency: number; queueLimit: number; maxTimeoutMs: number },
  ) {}

  /** True when `name` is a known provider. */
  has(name: string): boolean {
    return this.providers.has(name);
  }

  /** Whether `name` is a liveness probe whose serving is logged at debug (Provider.quiet). */
  quiet(name: string): boolean {
    return this.providers.get(name)?.quiet === true;
  }

  /** Runs one spec; always resolves. */
  async run(spec: RunSpec): Promise<ProviderOutput> {
    const provider = this.providers.get(spec.provider);
    if (!provider) {
      const known = [...this.providers.keys()].sort().join(", ");
      return {
        exit: EXIT.unknown,
        short: `unknown provider ${JSON.stringify(spec.provider)} (known: ${known})`,
      };
    }
    if (this.running >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.queueLimit)
        return { exit: EXIT.busy, short: "agent busy: too many requests queued" };
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      if (spec.cancel?.aborted) return cancelledOutput(cancelledBy(spec.cancel));
      const timeoutMs = Math.min(spec.timeoutMs ?? provider.timeoutMs, this.limits.maxTimeoutMs);
      return await this.withTimeout(
        timeoutMs,
        (signal) => provider.run(spec.args, { ...spec.context, signal }),
        spec.cancel,
      );
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /** Aborts every running provider. */
  stop(): void {
    this.stopping.abort();
  }

  private async withTimeout(
    timeoutMs: number,
    run: (signal: AbortSignal) => Promise<ProviderOutput>,
    cancel: AbortSignal | undefined,
  ): Promise<ProviderOutput> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;
    let onCancel: (() => void) | undefined;
    let cancelled = false;
    const running = run(controller.signal).then(checkOutput, describeFailure);
    const cutOff = new Promise<ProviderOutput>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ exit: EXIT.timeout, short: `timed out after ${timeoutMs} ms` });
      }, timeoutMs);
      onStop = () => {
        controller.abort();
        resolve({ exit: EXIT.stopped, short: "agent stopping" });
      };
      this.stopping.signal.addEventListener("abort", onStop);
      if (cancel === undefined) return;
      onCancel = () => {
        cancelled = true;
        clearTimeout(timer);
        controller.abort();
        // Reported once the provider settled (its process group is gone), or after a bound.
        const settle = setTimeout(resolve, CANCEL_SETTLE_MS, cancelledOutput(cancelledBy(cancel)));
        void running.finally(() => clearTimeout(settle));
      };
      cancel.addEventListener("abort", onCancel, { once: true });
    });
    try {
      const output = await Promise.race([running, cutOff]);
      return cancelled && cancel !== undefined ? cancelledOutput(cancelledBy(cancel)) : output;
    } finally {
      clearTimeout(timer);
      if (onStop) this.stopping.signal.removeEventListener("abort", onStop);
      if (onCancel) cancel?.removeEventListener("abort", onCancel);
    }
  }
}

function checkOutput(out: ProviderOutput): ProviderOutput {
  if (
    typeof out !== "object" ||
    out === null ||
    !Number.isInteger(out.exit) ||
    typeof out.short !== "string"
  ) {
    return {
      exit: EXIT.crashed,
      short: "provider returned an invalid output (needs integer exit and string short)",
    };
  }
  return out;
}

function describeFailure(err: unknown): ProviderOutput {
  if (err instanceof ProviderArgsError) return { exit: EXIT.badArgs, short: err.describe() };
  return { exit: EXIT.crashed, short: `provider failed: ${errorMessage(err)}` };
}
