/**
 * The sections of the configuration file an agent reads — `redis`, `log` and `agent` — and
 * {@link loadAgentConfig}, which reads only those: `commodore agent --config` shares the bot's
 * file but loads none of the bot's schemas (transports, provisioning, the controller), which
 * would cost the agent memory for code it never runs. The other sections are the bot's, checked
 * by `commodore start` and `commodore config`. config/schema.ts builds the whole file from these.
 */
import { z } from "zod";
import { agentOptionsSchema, DEFAULT_PREFIX } from "../executors/fleet/agent-entry.ts";
import { checkTopology, redisTopologyFields } from "../lib/redis/options.ts";
import { readConfig, type LoadOptions } from "./read.ts";

const LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

const tlsSchema = z
  .object({
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict();

/** The `redis` section: where the bus is, shared by the bot and the agents. */
export const redisSchema = z
  .object({
    url: z
      .string()
      .regex(
        /^(rediss?|unix):\/\/\S+$/,
        "a redis://, rediss:// or unix:// URL such as redis://127.0.0.1:6379",
      )
      .optional(),
    tls: tlsSchema.optional(),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "a key prefix such as commodore (letters, digits, _ . -)")
      .default(DEFAULT_PREFIX),
    ...redisTopologyFields,
  })
  .strict()
  .superRefine(checkTopology);

/** The `log` section. */
export const logSchema = z.object({ level: z.enum(LEVELS).default("info") }).strict();

/** An agent on this machine; `commodore start` runs it in-process when `local` is true. */
export const agentSchema = agentOptionsSchema
  .omit({ redisUrl: true, prefix: true })
  .extend({
    local: z.boolean().default(false),
    hostKeyPath: z.string().min(1).optional(),
    allowedSignersPath: z.string().min(1).optional(),
  })
  .strict();

/**
 * The top-level sections only the bot reads: an agent lets them pass unread, but a name that is
 * none of these (a typo such as `agnet:`) is still refused with a suggestion. A test keeps this
 * list equal to config/schema.ts's sections.
 */
export const BOT_SECTIONS = [
  "bot",
  "http",
  "roles",
  "principals",
  "controller",
  "irc",
  "voice",
  "provision",
] as const;

/** What an agent reads of the file. */
const agentConfigSchema = z
  .object({
    redis: redisSchema.default({}),
    log: logSchema.default({}),
    agent: agentSchema.optional(),
    ...Object.fromEntries(BOT_SECTIONS.map((name) => [name, z.unknown()])),
  })
  .strict();

/** The agent's view of the configuration file. */
export type AgentFileConfig = z.infer<typeof agentConfigSchema>;

/** Reads the agent's sections of a configuration file; throws a ConfigError listing problems. */
export function loadAgentConfig(options: LoadOptions = {}): AgentFileConfig {
  return readConfig(agentConfigSchema, options);
}
