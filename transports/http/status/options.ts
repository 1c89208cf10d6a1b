/**
 * The `http.status` configuration section: the browser status page under `/ui`.
 */
import { z } from "zod";

/** Default lifetime of a job link the bot hands out: one hour. */
export const DEFAULT_LINK_TTL_SECONDS = 3_600;
/** Default lifetime of a browser session started with a bearer token: eight hours. */
export const DEFAULT_SESSION_TTL_SECONDS = 8 * 3_600;
/** Default age of the last heartbeat after which a node is flagged stale (two missed beats). */
export const DEFAULT_STALE_AFTER_SECONDS = 25;
const DAY_SECONDS = 86_400;

/** Schema of `http.status`. */
export const statusOptionsSchema = z
  .object({
    enabled: z.boolean().default(true),
    linkTtlSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * DAY_SECONDS)
      .default(DEFAULT_LINK_TTL_SECONDS),
    sessionTtlSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * DAY_SECONDS)
      .default(DEFAULT_SESSION_TTL_SECONDS),
    staleAfterSeconds: z
      .number()
      .int()
      .min(1)
      .max(DAY_SECONDS)
      .default(DEFAULT_STALE_AFTER_SECONDS),
    /**
     * Environment variable holding the link-signing secret (share it between bot replicas);
     * without it a random secret is generated into the state directory.
     */
    linkSecretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "an environment variable name")
      .optional(),
  })
  .strict();

/** Validated `http.status`. */
export type StatusOptions = z.infer<typeof statusOptionsSchema> & {
  /** Base URL people reach the HTTP transport at (the config's `http.publicUrl`). */
  readonly publicUrl?: string;
};
