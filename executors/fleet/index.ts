/**
 * Public API of the fleet executor: the controller (as an Executor), the agent, key helpers,
 * option schemas and the protocol pieces other parts (bot, config, tests) may need.
 */
export {
  createFleetExecutor,
  type FleetExecutor,
  type FleetExecutorOptions,
} from "./controller/controller.ts";
export { sshControllerSecurity, type ControllerSecurity } from "./controller/security.ts";
export { createAgent, type Agent, type AgentOptions } from "./agent/agent.ts";
export { sshAgentSecurity, type AgentSecurity } from "./agent/security.ts";
export { ensureKeys, generateKey, signerLine, type FleetKeys, type KeyFiles } from "./keygen.ts";
export {
  agentOptionsSchema,
  controllerOptionsSchema,
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
  REGISTRATION_NAMESPACE,
  REPLY_NAMESPACE,
  REQUEST_NAMESPACE,
  fleetNames,
} from "./protocol/channels.ts";
export type { RejectReason } from "./protocol/rejections.ts";
export type * from "./types.ts";
