/**
 * Loads, overrides from the environment and validates the whole configuration file (the bot's
 * view; an agent reads only its sections through config/agent.ts).
 */
import { readConfig, type LoadOptions } from "./read.ts";
import { configSchema, type Config } from "./schema.ts";

export type { LoadOptions } from "./read.ts";

/** Reads and validates the whole configuration; throws a ConfigError listing every problem. */
export function loadConfig(options: LoadOptions = {}): Config {
  return readConfig(configSchema, options);
}
