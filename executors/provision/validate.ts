/**
 * Enqueue-time checks shared by every trigger, so a bad request fails where it was made
 * rather than later in a worker: host syntax, playbook exists by name, extra vars allowed.
 */
import { InvalidHostError } from "./errors.ts";
import { checkExtraVars } from "./extra-vars.ts";
import { isIpAddress } from "./net.ts";
import { resolvePlaybook } from "./playbooks.ts";
import type { ProvisionJobSpec } from "./types.ts";

/** A hostname as agents register them (RFC 1123 labels, plus `_`). */
export const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*$/;
const MAX_HOSTNAME = 253;

/** Throws InvalidHostError unless `host` is a hostname or an IP literal. */
export function checkHost(host: string): void {
  if (isIpAddress(host)) return;
  if (host.length > MAX_HOSTNAME || !HOSTNAME.test(host)) {
    throw new InvalidHostError(host, "is neither a hostname nor an IP address");
  }
}

/** Builds the validator the queue runs on every enqueue. */
export function createSpecValidator(options: {
  readonly playbookDir: string;
  readonly extraVarsAllowList: readonly string[];
}): (spec: ProvisionJobSpec) => void {
  return (spec) => {
    checkHost(spec.host);
    if (spec.address !== undefined && !isIpAddress(spec.address)) {
      throw new InvalidHostError(spec.address, "is not an IP address");
    }
    resolvePlaybook(options.playbookDir, spec.playbook);
    checkExtraVars(spec.extraVars, options.extraVarsAllowList);
  };
}
