/**
 * The files one run needs, written into a private per-run directory: an inventory holding only
 * the target, a known_hosts pinning its key, a minimal ansible.cfg and the extra vars.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OptionsError } from "../../../lib/errors.ts";
import type { ExtraVars } from "../types.ts";
import { knownHostsLine } from "./host-key.ts";
import type { RunTarget } from "./target.ts";

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
/** Paths end up inside ssh option strings ansible splits with shlex: keep them plain. */
const PLAIN_PATH = /^[A-Za-z0-9_./-]+$/;

/** Paths of the generated files. */
export interface RunFiles {
  readonly dir: string;
  readonly inventory: string;
  readonly knownHosts: string;
  readonly config: string;
  readonly vars: string;
}

/** SSH options every connection uses: strict checking against our file only, no multiplexing. */
export function sshArgs(knownHosts: string): string {
  return [
    "-o StrictHostKeyChecking=yes",
    `-o UserKnownHostsFile=${knownHosts}`,
    "-o GlobalKnownHostsFile=/dev/null",
    "-o UpdateHostKeys=no",
    "-o IdentitiesOnly=yes",
    "-o BatchMode=yes",
    "-o ControlMaster=no",
    "-o ControlPath=none",
  ].join(" ");
}

/** A YAML document of extra vars, every string tagged `!unsafe` so ansible never templates it. */
export function varsYaml(vars: ExtraVars): string {
  const lines = Object.entries(vars).map(([name, value]) =>
    typeof value === "string"
      ? `${name}: !unsafe ${JSON.stringify(value)}`
      : `${name}: ${JSON.stringify(value)}`,
  );
  return lines.length === 0 ? "{}\n" : lines.join("\n") + "\n";
}

/** Inputs of {@link writeRunFiles}. */
export interface RunFilesInput {
  readonly workDir: string | undefined;
  readonly target: RunTarget;
  readonly remoteUser: string;
  readonly privateKey: string;
  readonly extraVars: ExtraVars;
}

/** Creates the per-run directory and its files (mode 0600, directory 0700). */
export function writeRunFiles(input: RunFilesInput): RunFiles {
  const base = input.workDir ?? tmpdir();
  mkdirSync(base, { recursive: true, mode: PRIVATE_DIR });
  const dir = mkdtempSync(join(base, "commodore-run-"));
  if (!PLAIN_PATH.test(dir)) {
    throw new OptionsError(
      `provision.workDir ${JSON.stringify(base)} contains characters unsafe in ssh options`,
      "use a directory path made of letters, digits, _ . - and /",
    );
  }
  const files: RunFiles = {
    dir,
    inventory: join(dir, "inventory.yml"),
    knownHosts: join(dir, "known_hosts"),
    config: join(dir, "ansible.cfg"),
    vars: join(dir, "vars.yml"),
  };
  const { target } = input;
  const write = (path: string, text: string) =>
    writeFileSync(path, text, { mode: PRIVATE_FILE, flag: "wx" });
  write(files.knownHosts, knownHostsLine(target.address, target.port, target.key) + "\n");
  const inventory = {
    all: {
      hosts: {
        [target.name]: {
          ansible_host: target.address,
          ansible_port: target.port,
          ansible_user: input.remoteUser,
          ansible_ssh_private_key_file: input.privateKey,
          ansible_ssh_common_args: sshArgs(files.knownHosts),
        },
      },
    },
  };
  write(files.inventory, JSON.stringify(inventory, null, 2) + "\n");
  write(files.vars, varsYaml(input.extraVars));
  write(
    files.config,
    [
      "[defaults]",
      "host_key_checking = True",
      "stdout_callback = json",
      "retry_files_enabled = False",
      "interpreter_python = auto_silent",
      "forks = 1",
      "nocows = 1",
      `local_tmp = ${join(dir, "tmp")}`,
      "",
      "[ssh_connection]",
      "ssh_args = -o ControlMaster=no -o ControlPath=none",
      "pipelining = True",
      "",
    ].join("\n"),
  );
  return files;
}
