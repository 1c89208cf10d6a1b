/**
 * Loads, overrides from the environment and validates the whole configuration file (the bot's
 * view; an agent reads only its sections through config/agent.ts).
 */
import { readConfig, type ConfigVerifier, type LoadOptions } from "./read.ts";
import { configSchema, type Config } from "./schema.ts";

export type { LoadOptions } from "./read.ts";

/**
 * Reads and validates the whole configuration (and runs `verify` on it, as `config check` does);
 * throws a ConfigError listing every problem.
 */
export function loadConfig(options: LoadOptions = {}, verify?: ConfigVerifier<Config>): Config {
  return readConfig(configSchema, options, verify);
}
