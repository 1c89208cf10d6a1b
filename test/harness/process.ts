/**
 * Child processes of the test harness: every child spawned here is SIGKILLed once the test
 * file's tests are done (so a test that failed half-way cannot leave a child holding the test
 * process open) or the test process exits, and a server child can be stopped and started again.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { after } from "node:test";

const live = new Set<ChildProcess>();
const killAll = () => {
  for (const c of live) c.kill("SIGKILL");
};
after(killAll);
process.on("exit", killAll);

/** Spawns `command`; the child is killed when the test process exits if it still runs. */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess {
  const child = spawn(command, args, options);
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Sends `signal` to `child` and resolves once it has exited (at once if it already had). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  await exited;
}

/** A server process that can be stopped and started again. */
export interface Restartable {
  /** Stops the server (SIGKILL when `hard`, which looks like a crash to its clients). */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again, as `launch` does (after `stop`). */
  restart(): Promise<void>;
}

/** Stop and restart for the running `first` child of `launch`; `name` is for errors. */
export function restartable(
  name: string,
  first: ChildProcess,
  launch: () => Promise<ChildProcess>,
): Restartable {
  let child: ChildProcess | undefined = first;
  return {
    async stop(hard = false) {
      const c = child;
      child = undefined;
      if (c) await stopChild(c, hard ? "SIGKILL" : "SIGTERM");
    },
    async restart() {
      if (child) throw new Error(`${name} is still running`);
      child = await launch();
    },
  };
}
