/**
 * Waiting that a cancellation or shutdown cuts short: for loops that pause between steps (a
 * batched rollout's `--batch-wait`, following a provisioning job) and must stop at once when
 * their signal aborts, without treating the abort as an error.
 */

/** Resolves after `ms`, or as soon as `signal` aborts (at once if it already has); never rejects. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
