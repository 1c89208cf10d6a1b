/**
 * The `provision` options that point playbook runs at a test sshd: shared by the provisioning
 * tests' fixture and the full-stack provisioning harness.
 */
import type { TestSshd } from "./sshd.ts";

/** Where runs read playbooks and write logs and work files. */
export interface ProvisionRunDirs {
  readonly playbooks: string;
  readonly logs: string;
  readonly work: string;
}

/** Options running playbooks from `dirs` on `sshd`, logging in as its user with its client key. */
export function sshdProvisionInput(dirs: ProvisionRunDirs, sshd: TestSshd) {
  return {
    playbookDir: dirs.playbooks,
    logDir: dirs.logs,
    workDir: dirs.work,
    remoteUser: sshd.user,
    privateKey: sshd.clientKey.privatePath,
    sshPort: sshd.port,
  };
}
