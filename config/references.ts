/**
 * What a valid configuration refers to outside itself, checked as `commodore config check`
 * does before it passes a file: every file `commodore start` reads exists, is a regular file and
 * is readable by the user running the check — fleet private keys parse and only their owner may
 * access them (OpenSSH's rule), allowed_signers and known_hosts files parse within their limits,
 * the playbook directory holds every playbook named — and every `tokenEnv` variable is set.
 * Agent files count only for the agent `commodore start` runs itself (`agent.local`); an agent
 * host checks its own with `commodore agent`.
 */
import { constants, accessSync, statSync } from "node:fs";
import {
  checkKeyPermissions,
  KeyError,
  loadAllowedSigners,
  loadKnownHosts,
  loadPrivateKey,
  readPrivateKeyFile,
  UnprotectedKeyError,
} from "../executors/fleet/index.ts";
import { resolvePlaybook } from "../executors/provision/index.ts";
import { unreadableFileReason } from "../lib/bounded-file.ts";
import { CommodoreError } from "../lib/errors.ts";
import type { ConfigProblem } from "./errors.ts";
import type { Config } from "./schema.ts";

/** What a referenced file must be, by kind. */
const EXPECTED = {
  file: "a readable file",
  keyFile: "a readable private key file",
  key: "an unencrypted OpenSSH private key",
  protectedKey: "a private key file only its owner may access",
  allowedSigners: "a readable allowed_signers file",
  knownHosts: "a readable known_hosts file",
  directory: "a readable directory",
} as const;

/** Collects problems; each check adds at most one per path. */
class Problems {
  readonly list: ConfigProblem[] = [];

  add(path: string, expected: string, found: string): void {
    this.list.push({ path, expected, found });
  }

  /** A file read as it is used elsewhere (certificates, CA bundles); false when it is not. */
  file(path: string, file: string | undefined, expected: string = EXPECTED.file): boolean {
    if (file === undefined) return false;
    const reason = unreadableFileReason(file);
    if (reason !== undefined) this.add(path, expected, `${reason} for ${file}`);
    return reason === undefined;
  }

  /** A key a loader of `file` refuses: mode, readability and content each say which. */
  private keyRefused(path: string, file: string, err: unknown): void {
    if (err instanceof UnprotectedKeyError)
      this.add(
        path,
        `${EXPECTED.protectedKey} (chmod 600 ${file})`,
        `permissions ${err.modeText} for ${file}`,
      );
    else if (err instanceof KeyError) this.add(path, EXPECTED.key, err.message);
    else throw err;
  }

  /** A fleet key: read, parsed and owner-only, as `commodore start` loads it. */
  fleetKey(path: string, file: string | undefined): void {
    if (file === undefined || !this.file(path, file, EXPECTED.keyFile)) return;
    try {
      loadPrivateKey(file);
    } catch (err) {
      this.keyRefused(path, file, err);
    }
  }

  /** A key another program (ssh under ansible-playbook) reads: readable and owner-only. */
  sshKey(path: string, file: string): void {
    if (!this.file(path, file, EXPECTED.keyFile)) return;
    try {
      checkKeyPermissions(file, readPrivateKeyFile(file).stats);
    } catch (err) {
      this.keyRefused(path, file, err);
    }
  }

  /** A trust file, parsed by its loader; its error names the file and line. */
  trustFile(path: string, file: string | undefined, expected: string, load: () => unknown): void {
    if (file === undefined || !this.file(path, file, expected)) return;
    try {
      load();
    } catch (err) {
      if (!(err instanceof CommodoreError)) throw err;
      this.add(path, expected, err.message);
    }
  }

  directory(path: string, dir: string): boolean {
    try {
      if (!statSync(dir).isDirectory()) {
        this.add(path, EXPECTED.directory, `a file, ${dir}`);
        return false;
      }
      accessSync(dir, constants.R_OK | constants.X_OK);
      return true;
    } catch (err) {
      this.add(path, EXPECTED.directory, `${(err as NodeJS.ErrnoException).code} for ${dir}`);
      return false;
    }
  }
}

function provisionProblems(problems: Problems, provision: NonNullable<Config["provision"]>): void {
  problems.sshKey("provision.privateKey", provision.privateKey);
  if (!problems.directory("provision.playbookDir", provision.playbookDir)) return;
  const named: Array<[string, string]> = [
    ...(provision.defaultPlaybook === undefined
      ? []
      : [["provision.defaultPlaybook", provision.defaultPlaybook] as [string, string]]),
    ...Object.entries(provision.firstBoot.map).map(([value, name]): [string, string] => [
      `provision.firstBoot.map.${value}`,
      name,
    ]),
    ...Object.keys(provision.callback.playbooks).map((name): [string, string] => [
      `provision.callback.playbooks.${name}`,
      name,
    ]),
  ];
  for (const [path, name] of named) {
    try {
      resolvePlaybook(provision.playbookDir, name);
    } catch (err) {
      if (!(err instanceof CommodoreError)) throw err;
      problems.add(path, `a playbook in ${provision.playbookDir}`, err.message);
    }
  }
}

/** Which references {@link referenceProblems} checks. */
export interface ReferenceChecks {
  /** Files too (default); false checks the environment only, for a file checked elsewhere. */
  readonly files?: boolean;
}

/** Every problem with what `config` refers to; `env` is where `tokenEnv` variables are read. */
export function referenceProblems(
  config: Config,
  env: NodeJS.ProcessEnv,
  checks: ReferenceChecks = {},
): ConfigProblem[] {
  const problems = new Problems();
  envProblems(problems, config, env);
  if (checks.files !== false) fileProblems(problems, config);
  return problems.list;
}

function envProblems(problems: Problems, config: Config, env: NodeJS.ProcessEnv): void {
  config.principals.forEach((principal, i) => {
    const name = principal.http?.tokenEnv;
    if (name !== undefined && (env[name] ?? "") === "")
      problems.add(
        `principals[${i}].http.tokenEnv`,
        "the name of a variable that is set (export it, or use tokenSha256)",
        `${name}, which is not set`,
      );
  });
}

function fileProblems(problems: Problems, config: Config): void {
  const { controller, agent, redis } = config;
  problems.fleetKey("controller.keyPath", controller.keyPath);
  for (const [name, signer] of Object.entries(controller.signers))
    problems.fleetKey(`controller.signers.${name}.keyPath`, signer?.keyPath);
  const known = controller.knownHostsPath;
  problems.trustFile("controller.knownHostsPath", known, EXPECTED.knownHosts, () =>
    loadKnownHosts(known ?? ""),
  );
  const enrollment = controller.enrollmentSignersPath;
  problems.trustFile("controller.enrollmentSignersPath", enrollment, EXPECTED.allowedSigners, () =>
    loadAllowedSigners(enrollment ?? ""),
  );
  if (agent?.local === true) {
    problems.fleetKey("agent.hostKeyPath", agent.hostKeyPath);
    const signers = agent.allowedSignersPath;
    problems.trustFile("agent.allowedSignersPath", signers, EXPECTED.allowedSigners, () =>
      loadAllowedSigners(signers ?? ""),
    );
    problems.file("agent.hostCertPath", agent.hostCertPath);
  }
  problems.file("redis.tls.caFile", redis.tls?.caFile);
  problems.file("redis.tls.certFile", redis.tls?.certFile);
  problems.file("redis.tls.keyFile", redis.tls?.keyFile);
  problems.file("irc.sasl.clientCert", config.irc?.sasl?.clientCert);
  problems.file("irc.sasl.clientKey", config.irc?.sasl?.clientKey);
  problems.file("voice.trustedRootsFile", config.voice?.trustedRootsFile);
  if (config.provision !== undefined) provisionProblems(problems, config.provision);
}
