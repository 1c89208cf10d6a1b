/**
 * Public API of the fleet executor: the controller (as an Executor) and its enrollment, the
 * agent, key helpers, option schemas and the protocol pieces other parts need. Everything
 * outside executors/fleet imports from here (eslint enforces it; tests may reach further).
 */
export {
  createFleetExecutor,
  matchFor,
  type FleetExecutor,
  type FleetExecutorOptions,
} from "./controller/controller.ts";
export { type BulkAcceptance, type FleetEnrollment } from "./controller/enrollment-actions.ts";
export { ENROLLMENT_MODES, type EnrollmentMode } from "./types.ts";
export { limitHosts } from "./controller/rollout.ts";
export { NoMatchError, filterText } from "./controller/no-match.ts";
export { ENROLLMENT_LEDGER_FILE } from "./controller/ledger.ts";
export {
  loadRequestIdentities,
  sshControllerSecurity,
  type ControllerSecurity,
  type RequestIdentities,
} from "./controller/security.ts";
export { selectNodes } from "./agent/matcher.ts";
export { createAgent, type Agent, type AgentOptions } from "./agent/agent.ts";
export { sshAgentSecurity, type AgentSecurity } from "./agent/security.ts";
export { ensureKeys, generateKey, signerLine, type FleetKeys, type KeyFiles } from "./keygen.ts";
export {
  DEFAULT_ALLOWED_SIGNERS,
  DEFAULT_HOST_KEY,
  DEFAULT_REDIS_URL,
  agentOptionsSchema,
  controllerOptionsSchema,
  requestSignerSchema,
  type AgentConfig,
  type AgentConfigInput,
  type ControllerConfig,
  type ControllerConfigInput,
} from "./options.ts";
export { providerRegistry } from "./providers/index.ts";
export type {
  Provider,
  ProviderContext,
  ProviderOutput,
  ProviderRegistry,
} from "./providers/provider.ts";
export { ProviderArgsError } from "./providers/provider.ts";
export {
  DEFAULT_PREFIX,
  ENROLLMENT_NAMESPACE,
  REGISTRATION_NAMESPACE,
  REPLY_NAMESPACE,
  REQUEST_NAMESPACE,
  fleetNames,
} from "./protocol/channels.ts";
export { compileGlob, type Glob } from "./protocol/glob.ts";
export {
  checkKeyPermissions,
  KeyError,
  loadPrivateKey,
  parsePublicKeyLine,
  readPrivateKeyFile,
  UnprotectedKeyError,
} from "./protocol/keys.ts";
export { loadAllowedSigners } from "./protocol/allowed-signers.ts";
export { loadKnownHosts } from "./controller/known-hosts.ts";
export { compileSafeRegex } from "./protocol/regex.ts";
export type { RejectReason } from "./protocol/rejections.ts";
export type * from "./types.ts";
