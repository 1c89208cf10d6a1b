/**
 * Child processes in a process group of their own, so a timeout, a cancellation or a shutdown
 * stops the whole tree a provider or a playbook started (shells, ssh, ansible workers), not
 * just the leader: SIGTERM to the group, SIGKILL after a grace period, and SIGKILL to any
 * straggler once the leader is gone.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/** A spawned group leader and the means to stop its group. */
export interface GroupProcess {
  readonly child: ChildProcess;
  /** SIGTERM to the group now, SIGKILL after the grace period; later calls do nothing. */
  terminate(): void;
  /** True once {@link terminate} was called. */
  readonly terminating: boolean;
  /** SIGKILL to whatever is left of the group (after the leader exited) and stop the timer. */
  reap(): void;
}

/** Sends `signal` to process group `pid`; a group that is already gone is not an error. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Spawns `file` with `args` (never through a shell) as the leader of a new process group. */
export function spawnGroup(
  file: string,
  args: readonly string[],
  options: Omit<SpawnOptions, "detached" | "shell">,
  killGraceMs: number,
): GroupProcess {
  const child = spawn(file, [...args], { ...options, detached: true, shell: false });
  let killTimer: NodeJS.Timeout | undefined;
  let terminating = false;
  return {
    child,
    get terminating() {
      return terminating;
    },
    terminate() {
      if (terminating || child.pid === undefined) return;
      terminating = true;
      const pid = child.pid;
      killGroup(pid, "SIGTERM");
      killTimer = setTimeout(() => killGroup(pid, "SIGKILL"), killGraceMs);
      killTimer.unref();
    },
    reap() {
      if (killTimer === undefined || child.pid === undefined) return;
      clearTimeout(killTimer);
      killTimer = undefined;
      killGroup(child.pid, "SIGKILL");
    },
  };
}
