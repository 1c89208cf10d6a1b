/**
 * Shared set-up for provisioning tests: playbooks on disk, options pointing at a test sshd,
 * and registered-host records built from its real host key.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KnownHost } from "../../executors/provision/hosts.ts";
import {
  parseProvisionOptions,
  type ProvisionOptions,
  type ProvisionOptionsInput,
} from "../../executors/provision/options.ts";
import { sshdProvisionInput } from "../harness/provision-target.ts";
import type { TestSshd } from "../harness/sshd.ts";
import { tempDir } from "../harness/tmp.ts";

/** Writes a file with a marker per host; copy honours --check. */
const MARKER_PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: write marker
      ansible.builtin.copy:
        content: "provisioned {{ inventory_hostname }} {{ flavour | default('plain') }}\\n"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.txt"
`;

/** Appends start/end events with nanosecond timestamps, for overlap and once-only checks. */
const EVENTS_PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: record
      ansible.builtin.shell: >-
        echo "start {{ inventory_hostname }} $(date +%s%N)" >> {{ out_dir }}/events.log;
        sleep 0.2;
        echo "end {{ inventory_hostname }} $(date +%s%N)" >> {{ out_dir }}/events.log
`;

/** Directories one test file works in. */
export interface Dirs {
  readonly playbooks: string;
  readonly logs: string;
  readonly out: string;
  readonly work: string;
}

/** Creates playbooks `marker` and `events` and empty log/out/work dirs. */
export function makeDirs(): Dirs {
  const root = tempDir("commodore-prov-");
  const dirs = {
    playbooks: join(root, "playbooks"),
    logs: join(root, "logs"),
    out: join(root, "out"),
    work: join(root, "work"),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  writeFileSync(join(dirs.playbooks, "marker.yml"), MARKER_PLAYBOOK);
  writeFileSync(join(dirs.playbooks, "events.yaml"), EVENTS_PLAYBOOK);
  return dirs;
}

/** Options for runs against `sshd`, with `out_dir` and `flavour` allow-listed. */
export function makeOptions(
  dirs: Dirs,
  sshd: TestSshd,
  extra: Partial<ProvisionOptionsInput> = {},
): ProvisionOptions {
  return parseProvisionOptions({
    ...sshdProvisionInput(dirs, sshd),
    extraVarsAllowList: ["out_dir", "flavour"],
    ...extra,
  });
}

/** A registered host record for `hostname` at `address`, pinned to the sshd's real key. */
export function registered(
  sshd: TestSshd,
  hostname: string,
  address = "127.0.0.1",
  facts: Record<string, unknown> = {},
): KnownHost {
  return { hostname, addresses: [address], publicKey: sshd.hostKey.publicLine, facts };
}
