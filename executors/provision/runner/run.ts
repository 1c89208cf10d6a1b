/**
 * One playbook run against one host: resolve and pin its key, refuse on an unknown or changed
 * key, write the per-run files, run ansible-playbook, parse the recap, write the per-host log.
 */
import { rmSync } from "node:fs";
import { CommodoreError, errorMessage } from "../../../lib/errors.ts";
import type { Logger } from "../../../lib/log.ts";
import { HostKeyMismatchError, HostUnreachableError } from "../errors.ts";
import { checkExtraVars } from "../extra-vars.ts";
import type { HostDirectory } from "../hosts.ts";
import { networkSet } from "../net.ts";
import type { ProvisionOptions } from "../options.ts";
import { resolvePlaybook } from "../playbooks.ts";
import type { ProvisionJobSpec, RunOutcome } from "../types.ts";
import { writeRunFiles } from "./files.ts";
import { fingerprint, keyscan, keyscanType, sameKey } from "./host-key.ts";
import { openRunLog } from "./log-file.ts";
import { outcomeOf } from "./outcome.ts";
import type { HostKeyPins } from "./pins.ts";
import { runProcess } from "./process.ts";
import { parseReport } from "./recap.ts";
import { resolveTarget, type RunTarget } from "./target.ts";

/** How long to wait for a host's SSH banner and key. */
export const KEYSCAN_TIMEOUT_MS = 5_000;

/** What the runner needs. */
export interface RunnerDeps {
  readonly options: ProvisionOptions;
  readonly directory: HostDirectory;
  readonly pins: HostKeyPins;
  readonly logger: Logger;
}

/** Identifies one attempt of one job. */
export interface RunContext {
  readonly jobId: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
}

/** Runs one attempt; never rejects (every failure becomes an outcome). */
export type PlaybookRunner = (spec: ProvisionJobSpec, context: RunContext) => Promise<RunOutcome>;

/** What ansible-playbook and ssh need of the bot's environment to run at all. */
export const BASE_ENV = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TMPDIR",
  "USER",
  "LOGNAME",
] as const;

/**
 * ansible-playbook's environment: the minimal base, the names `passEnv` lists, and the fixed
 * ANSIBLE_ settings; never the rest of the bot's environment (tokens, passwords, Redis URLs),
 * which playbooks could otherwise read with `lookup('env', …)`.
 */
export function ansibleEnv(
  config: string,
  passEnv: readonly string[],
  from: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of [...BASE_ENV, ...passEnv]) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    ANSIBLE_CONFIG: config,
    ANSIBLE_HOST_KEY_CHECKING: "True",
    ANSIBLE_STDOUT_CALLBACK: "json",
    ANSIBLE_SSH_ARGS: "-o ControlMaster=no -o ControlPath=none",
    ANSIBLE_NOCOLOR: "1",
  };
}

async function preflight(options: ProvisionOptions, target: RunTarget, signal: AbortSignal) {
  const offered = await keyscan({
    command: options.sshKeyscan,
    address: target.address,
    port: target.port,
    types: [keyscanType(target.key)],
    timeoutMs: KEYSCAN_TIMEOUT_MS,
    signal,
  });
  const first = offered[0];
  if (!first) throw new HostUnreachableError(target.name, target.address, target.port);
  if (!offered.some((k) => sameKey(k, target.key))) {
    throw new HostKeyMismatchError(target.name, fingerprint(first), fingerprint(target.key));
  }
}

/** Builds the runner used by the queue's workers. */
export function createPlaybookRunner(deps: RunnerDeps): PlaybookRunner {
  const { options } = deps;
  const tofuNetworks = networkSet(options.tofuNetworks);
  return async (spec, context) => {
    const started = Date.now();
    const log = openRunLog(options.logDir, spec.host, deps.logger);
    const say = (line: string) => log.stream.write(`# ${line}\n`);
    say(
      `commodore provision job=${context.jobId} attempt=${context.attempt} host=${spec.host} playbook=${spec.playbook} check=${spec.check} trigger=${spec.trigger} requested-by=${spec.requestedBy}`,
    );
    let outcome: RunOutcome;
    let runDir: string | undefined;
    try {
      const playbookPath = resolvePlaybook(options.playbookDir, spec.playbook);
      const extraVars = checkExtraVars(spec.extraVars, options.extraVarsAllowList);
      const target = await resolveTarget(
        {
          hosts: await deps.directory.list(),
          defaultPort: options.sshPort,
          tofuNetworks,
          pins: deps.pins,
          keyscanCommand: options.sshKeyscan,
          keyscanTimeoutMs: KEYSCAN_TIMEOUT_MS,
          signal: context.signal,
        },
        spec.host,
        spec.address,
      );
      say(
        `target ${target.name} ${target.address}:${target.port} key ${fingerprint(target.key)} (${target.source})`,
      );
      await preflight(options, target, context.signal);
      const files = writeRunFiles({
        workDir: options.workDir,
        target,
        remoteUser: options.remoteUser,
        privateKey: options.privateKey,
        extraVars,
      });
      runDir = files.dir;
      const args = [
        playbookPath,
        "-i",
        files.inventory,
        "-e",
        `@${files.vars}`,
        "--limit",
        target.name,
      ];
      if (spec.check) args.push("--check");
      const result = await runProcess({
        command: options.ansiblePlaybook,
        args,
        env: ansibleEnv(files.config, options.passEnv),
        cwd: files.dir,
        timeoutMs: options.timeoutMs,
        signal: context.signal,
        log: log.stream,
      });
      const report = parseReport(result.stdout, target.name);
      for (const t of report?.tasks ?? [])
        say(`task ${t.task}: ${t.status}${t.msg ? ` - ${t.msg}` : ""}`);
      outcome = outcomeOf(result, report, target.name, options, Date.now() - started, log.path);
    } catch (err) {
      const known = err instanceof CommodoreError;
      const status =
        err instanceof HostUnreachableError ? "unreachable" : known ? "refused" : "error";
      if (!known) deps.logger.error("provision run failed", { jobId: context.jobId, error: err });
      outcome = {
        status,
        message: errorMessage(err),
        durationMs: Date.now() - started,
        logFile: log.path,
      };
    } finally {
      if (runDir !== undefined) rmSync(runDir, { recursive: true, force: true });
    }
    say(`result ${outcome.status}: ${outcome.message}`);
    await new Promise<void>((resolve) => log.stream.end(resolve));
    return outcome;
  };
}
