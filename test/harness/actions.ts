/**
 * Real programs for action-provider tests: shell scripts written to a temp directory that
 * record their argv, hang with a sleeping child, or log their start and end, plus a second
 * controller key trusted under another principal.
 */
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signerLine } from "../../executors/fleet/keygen.ts";
import { makeKey, type TestKey } from "./ssh-keys.ts";
import { tempDir } from "./tmp.ts";

/** Unit separator between recorded arguments. */
const SEP = "\x1f";

/** Writes an executable `#!/bin/sh` script and returns its path. */
export function writeScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A script that appends its argv (one record per call) to a file and prints `line`. */
export function argvRecorder(
  name: string,
  line = "done",
): { path: string; calls: () => string[][] } {
  const dir = tempDir("commodore-rec-");
  const record = join(dir, "calls");
  const path = writeScript(
    dir,
    name,
    `for a in "$@"; do printf '%s\\037' "$a"; done >> '${record}'\necho >> '${record}'\necho '${line}'`,
  );
  return {
    path,
    calls: () =>
      existsSync(record)
        ? readFileSync(record, "utf8")
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => l.split(SEP).slice(0, -1))
        : [],
  };
}

/**
 * A script that starts a sleeping child, writes the child's pid to `pidFile` and waits;
 * with `ignoreTerm` both ignore SIGTERM so only SIGKILL stops them.
 */
export function hangingScript(ignoreTerm: boolean): { path: string; pidFile: string } {
  const dir = tempDir("commodore-hang-");
  const pidFile = join(dir, "child.pid");
  const trap = ignoreTerm ? "trap '' TERM\n" : "";
  const path = writeScript(dir, "hang", `${trap}sleep 60 &\necho $! > '${pidFile}'\nwait`);
  return { path, pidFile };
}

/** True when `pid` no longer runs (gone, or a zombie nobody reaped yet). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Makes a controller key and appends its allowed_signers line for `principal`. */
export function trustSigner(allowedSignersPath: string, principal: string): TestKey {
  const key = makeKey("ed25519", principal);
  appendFileSync(allowedSignersPath, `${signerLine(principal, key.publicLine)}\n`);
  return key;
}

/** A script that logs `start <tag>` and `end <tag>` lines around a short sleep. */
export function spanScript(logFile: string, seconds: string): string {
  const dir = tempDir("commodore-span-");
  return writeScript(
    dir,
    "span",
    `echo "start $1" >> '${logFile}'\nsleep ${seconds}\necho "end $1" >> '${logFile}'\n[ "$1" != "$FAIL_TAG" ]`,
  );
}

/** Largest number of spans open at once in a start/end log. */
export function maxConcurrency(logFile: string): number {
  let open = 0;
  let max = 0;
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    if (line.startsWith("start ")) max = Math.max(max, ++open);
    else if (line.startsWith("end ")) open--;
  }
  return max;
}
