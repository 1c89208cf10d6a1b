/**
 * Public API of the provisioning executor: everything outside executors/provision imports from
 * here (eslint enforces it), so what the rest of Commodore relies on is this list.
 */
export { createProvisioning, type Provisioning, type ProvisioningDeps } from "./provisioning.ts";
export {
  CALLBACK_MESSAGES,
  createProvisionCallback,
  type CallbackOutcome,
  type CallbackRequest,
  type ProvisionCallback,
} from "./callback.ts";
export { createFleetHostDirectory } from "./fleet-hosts.ts";
export { pushKnock } from "./knocks.ts";
export { normalizeAddress } from "./net.ts";
export type { Notifier } from "./notifier.ts";
export {
  DEFAULT_REDIS_PREFIX,
  HASH_TAGGED_PREFIX,
  provisionOptionsSchema,
  type ProvisionOptions,
} from "./options.ts";
export { checkPlaybookName, resolvePlaybook } from "./playbooks.ts";
export { JOB_ID } from "./queue/keys.ts";
export { RegistrationWatcher } from "./registrations.ts";
export type * from "./types.ts";
