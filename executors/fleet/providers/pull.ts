/**
 * `pull`: runs the agent's configured pull-mode configuration tool (ansible-pull, `puppet
 * agent --onetime --no-daemonize`, …) and reports its exit, duration, output and the last lines
 * of its log file.
 */
import { errorMessage } from "../../../lib/errors.ts";
import type { ActionProvidersConfig, PullOptions } from "./action-options.ts";
import { processOutput } from "./action-common.ts";
import { runProcess } from "./process.ts";
import { expectNoArgs, type Provider } from "./provider.ts";
import { readTail } from "./tail.ts";

/** Time on top of the tool's timeout before the runner gives up on the provider. */
const MARGIN_MS = 1_000;

/** Builds the provider. */
export function pullProvider(
  opts: PullOptions,
  common: Pick<ActionProvidersConfig, "maxOutputBytes" | "killGraceMs">,
): Provider {
  return {
    name: "pull",
    timeoutMs: opts.timeoutMs + common.killGraceMs + MARGIN_MS,
    async run(args, ctx) {
      expectNoArgs("pull", args);
      const run = await runProcess({
        argv: opts.argv as [string, ...string[]],
        timeoutMs: opts.timeoutMs,
        signal: ctx.signal,
        maxOutputBytes: common.maxOutputBytes,
        killGraceMs: common.killGraceMs,
        env: opts.env,
      });
      let log: Record<string, unknown> = {};
      if (opts.logFile !== undefined) {
        try {
          const tail = await readTail(opts.logFile, opts.logLines, common.maxOutputBytes);
          log = { log: tail.lines, logTruncated: tail.truncated };
        } catch (err) {
          log = { log: [], logError: errorMessage(err) };
        }
      }
      return processOutput("pull", run, log);
    },
  };
}
