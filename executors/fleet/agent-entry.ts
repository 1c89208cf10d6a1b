/**
 * Public API of the fleet agent alone: what a process that only runs `commodore agent` needs.
 * executors/fleet/index.ts also exports the controller (enrollment, registry reader, reply
 * intake, rollout) and loading it costs the agent memory for code it never runs, so the agent
 * command and the agent's configuration sections (config/agent.ts) import this entry instead
 * (eslint allows exactly these two entries from outside).
 */
export { createAgent, type Agent, type AgentOptions } from "./agent/agent.ts";
export {
  agentOptionsSchema,
  DEFAULT_ALLOWED_SIGNERS,
  DEFAULT_HOST_KEY,
  DEFAULT_REDIS_URL,
} from "./options.ts";
export { DEFAULT_PREFIX } from "./protocol/channels.ts";
