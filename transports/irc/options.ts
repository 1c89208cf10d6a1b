/**
 * The IRC transport's configuration schema (the `irc:` block of the YAML config).
 *
 * Every field has a safe default except `host`. Secrets may be given inline or, better, as the
 * name of an environment variable (`passwordEnv`) so they never sit in the config file.
 */
import { z } from "zod";
import { OptionsError } from "../../lib/errors.ts";

/** RFC 2812 nickname characters (first char not a digit or dash). */
const NICK_PATTERN = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;
/** Channel names: a type prefix, then anything but space, comma, BEL. */
// eslint-disable-next-line no-control-regex -- BEL is forbidden in channel names
const CHANNEL_PATTERN = /^[#&+!][^\s,\x07]+$/;
/** IRC lines are 512 bytes; leave room for `:nick!user@host PRIVMSG #chan :`. */
const MAX_LINE_BYTES = 450;
const MIN_LINE_BYTES = 100;

const secret = {
  password: z.string().min(1).optional(),
  /** Name of an environment variable holding the password. */
  passwordEnv: z.string().min(1).optional(),
};

const saslSchema = z
  .object({
    mechanism: z.enum(["PLAIN", "EXTERNAL"]).default("PLAIN"),
    account: z.string().min(1).optional(),
    ...secret,
    /** PEM client certificate file for EXTERNAL (CertFP). */
    clientCert: z.string().min(1).optional(),
    /** PEM private key file for EXTERNAL. */
    clientKey: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.mechanism === "PLAIN") {
      if (s.account === undefined)
        ctx.addIssue({ code: "custom", path: ["account"], message: "PLAIN needs an account" });
      if (s.password === undefined && s.passwordEnv === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["passwordEnv"],
          message: "PLAIN needs password or passwordEnv",
        });
    } else if (s.clientCert === undefined || s.clientKey === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["clientCert"],
        message: "EXTERNAL needs clientCert and clientKey (PEM files)",
      });
    }
  });

const nickservSchema = z
  .object({ account: z.string().min(1).optional(), ...secret })
  .strict()
  .refine((n) => n.password !== undefined || n.passwordEnv !== undefined, {
    message: "nickserv needs password or passwordEnv",
    path: ["passwordEnv"],
  });

/** Schema of the `irc:` configuration block. */
export const ircOptionsSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(6697),
    tls: z
      .object({
        enabled: z.boolean().default(true),
        /** Verify the server certificate; trust extra CAs with NODE_EXTRA_CA_CERTS. */
        rejectUnauthorized: z.boolean().default(true),
      })
      .strict()
      .default({}),
    nick: z.string().regex(NICK_PATTERN, "must be a valid IRC nickname").default("commodore"),
    username: z
      .string()
      .regex(/^[^\s@]+$/, "must not contain spaces or @")
      .default("commodore"),
    realname: z.string().min(1).default("Commodore chat-ops bot"),
    sasl: saslSchema.optional(),
    nickserv: nickservSchema.optional(),
    channels: z
      .array(
        z
          .object({
            name: z.string().regex(CHANNEL_PATTERN, "must look like #channel"),
            key: z.string().min(1).optional(),
          })
          .strict(),
      )
      .default([]),
    /** Command prefix in channels, e.g. `!` for `!fleet uptime`; empty disables it. */
    prefix: z.string().max(5).regex(/^\S*$/, "must not contain spaces").default("!"),
    rejoinOnKick: z.boolean().default(true),
    /** Result lines shown in a channel before switching to summary + link. */
    maxChannelLines: z.number().int().min(1).max(50).default(8),
    /** Longest message body sent, in UTF-8 bytes. */
    maxLineBytes: z.number().int().min(MIN_LINE_BYTES).max(MAX_LINE_BYTES).default(400),
    flood: z
      .object({
        burst: z.number().int().min(1).max(20).default(4),
        perSecond: z.number().positive().max(10).default(1),
        /** Lines held while disconnected before the oldest are dropped. */
        maxQueue: z.number().int().min(10).default(500),
      })
      .strict()
      .default({}),
    reconnect: z
      .object({
        baseMs: z.number().int().min(10).default(1_000),
        capMs: z.number().int().min(10).default(60_000),
      })
      .strict()
      .default({}),
    /** How often to try to take back the configured nick while using a fallback. */
    nickReclaimMs: z.number().int().min(1_000).default(60_000),
    /** How often to retry joining configured channels we are not in. */
    channelCheckMs: z.number().int().min(1_000).default(60_000),
    /** Minimum gap between live progress lines for one job. */
    progressIntervalMs: z.number().int().min(100).default(3_000),
    /** Full outputs kept for `more <job>`. */
    outputCache: z
      .object({
        jobs: z.number().int().min(1).default(50),
        ttlMs: z.number().int().min(1_000).default(3_600_000),
      })
      .strict()
      .default({}),
    ping: z
      .object({
        intervalSeconds: z.number().int().min(5).default(30),
        timeoutSeconds: z.number().int().min(10).default(120),
      })
      .strict()
      .default({}),
  })
  .strict();

/** Validated IRC options with defaults applied. */
export type IrcOptions = z.infer<typeof ircOptionsSchema>;
/** IRC options as written in a config file (defaults not yet applied). */
export type IrcOptionsInput = z.input<typeof ircOptionsSchema>;

/** Validates `input`, throwing an {@link OptionsError} naming the path, expectation and value. */
export function parseIrcOptions(input: unknown, path = "irc"): IrcOptions {
  const parsed = ircOptionsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = [path, ...(issue?.path ?? [])].join(".");
  const found =
    "received" in (issue ?? {})
      ? ` (found ${String((issue as { received: unknown }).received)})`
      : "";
  throw new OptionsError(
    `${where}: ${issue?.message ?? "invalid"}${found}`,
    "fix the irc section of the configuration; see docs/irc.md",
  );
}

/** Resolves an inline-or-environment secret; throws naming the field when it is missing. */
export function resolveSecret(
  value: { password?: string | undefined; passwordEnv?: string | undefined },
  field: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (value.password !== undefined) return value.password;
  const name = value.passwordEnv ?? "";
  const fromEnv = env[name];
  if (fromEnv === undefined || fromEnv === "")
    throw new OptionsError(
      `${field}.passwordEnv names ${name}, which is not set`,
      `export ${name} before starting, or set ${field}.password`,
    );
  return fromEnv;
}
