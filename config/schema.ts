/**
 * The configuration schema: one YAML file for bot, HTTP, Redis and (with the fleet package)
 * controller and agent settings. Messages given to zod are phrased as what was expected, so
 * a validation error reads "<path>: expected <message>, found <value>".
 */
import { z } from "zod";
import type { TransportName } from "../bot/contract.ts";
import { DEFAULT_MAX_JOB_BYTES_KEPT, DEFAULT_MAX_JOBS_KEPT } from "../bot/jobs/limits.ts";
import { controllerOptionsSchema, requestSignerSchema } from "../executors/fleet/index.ts";
import { provisionOptionsSchema } from "../executors/provision/index.ts";
import { ALLOWED_HOST_ENTRY } from "../transports/http/host-check.ts";
import {
  DEFAULT_LOGIN_RATE_LIMIT,
  DEFAULT_WEBHOOK_RATE_LIMIT,
} from "../transports/http/rate-limit.ts";
import { statusOptionsSchema } from "../transports/http/status/options.ts";
import { ircOptionsSchema } from "../transports/irc/options.ts";
import { voiceOptionsSchema } from "../transports/voice/options.ts";
import { agentSchema, logSchema, redisSchema } from "./agent.ts";

const RISKS = ["read", "change", "dangerous"] as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const MAX_PORT = 65_535;
const LISTEN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const PUBLIC_URL = /^https?:\/\/[^\s/?#@]+(\/[^\s?#]*)?$/;

/** Default job retention: one day. */
export const DEFAULT_JOB_TTL_SECONDS = 86_400;
/** Default confirmation window: five minutes. */
export const DEFAULT_CONFIRM_TTL_SECONDS = 300;
/** Default HTTP body limit. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

const name = (what: string) => z.string().regex(NAME, `${what} (letters, digits, _ . @ -)`);
const positiveInt = (max: number) => z.number().int().min(1).max(max);

/**
 * Blast-radius approval of a grant: a command it authorizes that touches more than `hostsOver`
 * hosts, or any host whose facts match `where`, waits for a second person's `confirm`.
 */
const approvalSchema = z
  .object({
    hostsOver: z.number().int().min(0).max(1_000_000).optional(),
    where: z.record(z.string().min(1)).optional(),
  })
  .strict()
  .refine((a) => a.hostsOver !== undefined || a.where !== undefined, {
    message: "hostsOver, where or both",
  });

const grantSchema = z
  .object({
    command: z.string().regex(/^(\*|[a-z][a-z0-9-]*)$/, "a command name or *"),
    args: z.record(z.union([z.string(), z.array(z.string()).min(1)])).optional(),
    where: z.record(z.string().min(1)).optional(),
    approval: approvalSchema.optional(),
  })
  .strict();

const principalSchema = z
  .object({
    id: name("a principal id"),
    roles: z.array(name("a role name")).default([]),
    irc: z
      .object({
        accounts: z.array(z.string().min(1)).default([]),
        masks: z
          .array(z.string().regex(/^[^\s!@]+![^\s!@]+@\S+$/, "a nick!user@host mask"))
          .default([]),
      })
      .strict()
      .optional(),
    http: z
      .object({
        tokenSha256: z
          .string()
          .regex(SHA256_HEX, "64 hex digits (sha256sum of the token)")
          .optional(),
        tokenEnv: z.string().regex(ENV_NAME, "an environment variable name").optional(),
      })
      .strict()
      .refine((h) => (h.tokenSha256 === undefined) !== (h.tokenEnv === undefined), {
        message: "exactly one of tokenSha256 or tokenEnv",
      })
      .optional(),
    voice: z
      .object({ applicationId: z.string().min(1), userId: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict();

const botSchema = z
  .object({
    dangerousHostThreshold: positiveInt(1_000_000).default(10),
    jobTtlSeconds: positiveInt(90 * 86_400).default(DEFAULT_JOB_TTL_SECONDS),
    /** Most jobs and bytes of jobs kept in Redis; the oldest are deleted first (docs/config.md). */
    jobRetention: z
      .object({
        maxJobs: positiveInt(10_000_000).default(DEFAULT_MAX_JOBS_KEPT),
        maxBytes: positiveInt(Number.MAX_SAFE_INTEGER).default(DEFAULT_MAX_JOB_BYTES_KEPT),
      })
      .strict()
      .default({}),
    confirm: z
      .object({
        ttlSeconds: positiveInt(86_400).default(DEFAULT_CONFIRM_TTL_SECONDS),
        requireOtherPerson: z.boolean().default(false),
      })
      .strict()
      .default({}),
    audit: z
      .object({
        file: z.string().min(1).optional(),
        streamMaxLen: positiveInt(10_000_000).default(100_000),
      })
      .strict()
      .default({}),
    providers: z.record(z.object({ risk: z.enum(RISKS) }).strict()).default({}),
    defaultRoles: z.array(name("a role name")).default([]),
  })
  .strict();

/** One rate-limit budget: a burst, then perMinute on average. */
const rateBudget = z
  .object({ perMinute: positiveInt(1_000_000), burst: positiveInt(1_000_000) })
  .strict();

const httpSchema = z
  .object({
    enabled: z.boolean().default(true),
    listen: z
      .string()
      .regex(LISTEN, "host:port such as 127.0.0.1:8080")
      .refine((v) => parseListen(v).port <= MAX_PORT, `a port from 0 to ${MAX_PORT}`)
      .default("127.0.0.1:8080"),
    bodyLimitBytes: positiveInt(16 * 1024 * 1024).default(DEFAULT_BODY_LIMIT_BYTES),
    /** Budgets shared by every replica in Redis (transports/http/rate-limit.ts). */
    rateLimit: z
      .object({
        perMinute: positiveInt(1_000_000).default(120),
        burst: positiveInt(1_000_000).default(30),
        /** `POST /ui/login`, per client address. */
        login: rateBudget.default(DEFAULT_LOGIN_RATE_LIMIT),
        /** `/voice/alexa` and `/provision/callback`, per client address. */
        webhooks: rateBudget.default(DEFAULT_WEBHOOK_RATE_LIMIT),
      })
      .strict()
      .default({}),
    anonymousFrom: z.array(z.string().min(1)).default([]),
    /** Base URL users reach this server at (job links, status page); default from `listen`. */
    publicUrl: z
      .string()
      .regex(PUBLIC_URL, "an http(s) URL such as https://commodore.example.org")
      .optional(),
    /**
     * Host names besides IP addresses, localhost, the listen host and publicUrl's host that
     * requests may name (DNS-rebinding protection, transports/http/host-check.ts).
     */
    allowedHosts: z
      .array(
        z
          .string()
          .regex(
            ALLOWED_HOST_ENTRY,
            "a host name without port such as ops.example.org, .example.org (the domain and its subdomains) or *",
          ),
      )
      .default([]),
    /** The browser status page under /ui (transports/http/status). */
    status: statusOptionsSchema.default({}),
  })
  .strict();

/**
 * The key and principal each transport signs fleet requests with; a transport without an entry
 * signs with the controller's `keyPath` and `principal`.
 */
const transportSigners = {
  irc: requestSignerSchema.optional(),
  http: requestSignerSchema.optional(),
  voice: requestSignerSchema.optional(),
  cli: requestSignerSchema.optional(),
} satisfies Record<TransportName, z.ZodTypeAny>;

/** The bot's fleet controller; Redis comes from the `redis` section. */
const controllerSchema = controllerOptionsSchema
  .omit({ redisUrl: true, prefix: true, census: true })
  .extend({
    /** Controller signing key; `commodore start` generates one in the state directory when absent. */
    keyPath: z.string().min(1).optional(),
    /** Per-transport signing identities (docs/actions.md); loaded when `commodore start` starts. */
    signers: z.object(transportSigners).strict().default({}),
  })
  .strict();

/** Notice channels must be channels the bot joins; callbacks need the HTTP server. */
function checkProvision(
  cfg: {
    http: { enabled: boolean };
    irc?: { channels: ReadonlyArray<{ name: string }> } | undefined;
    provision?: z.infer<typeof provisionOptionsSchema> | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const p = cfg.provision;
  if (p === undefined) return;
  const joined = new Set((cfg.irc?.channels ?? []).map((c) => c.name.toLowerCase()));
  p.notices.channels.forEach((channel, i) => {
    if (!joined.has(channel.toLowerCase()))
      ctx.addIssue({
        code: "custom",
        path: ["provision", "notices", "channels", i],
        message: "a channel listed in irc.channels (the bot only speaks where it joined)",
      });
  });
  if (Object.keys(p.callback.playbooks).length > 0 && !cfg.http.enabled)
    ctx.addIssue({
      code: "custom",
      path: ["http", "enabled"],
      message: "true when provision.callback.playbooks is configured (callbacks arrive over HTTP)",
    });
}

/** The whole file. */
export const configSchema = z
  .object({
    redis: redisSchema.default({}),
    log: logSchema.default({}),
    bot: botSchema.default({}),
    http: httpSchema.default({}),
    roles: z.record(z.object({ grants: z.array(grantSchema).default([]) }).strict()).default({}),
    principals: z.array(principalSchema).default([]),
    controller: controllerSchema.default({}),
    agent: agentSchema.optional(),
    /** The IRC transport (see docs/irc.md); absent: no IRC. */
    irc: ircOptionsSchema.optional(),
    /** The voice webhook at /voice/alexa (see docs/voice.md); absent: not mounted. */
    voice: voiceOptionsSchema.optional(),
    /** ansible-playbook provisioning (see docs/provisioning.md); absent: `provision` is refused. */
    provision: provisionOptionsSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const known = new Set(Object.keys(cfg.roles));
    const seen = new Set<string>();
    cfg.principals.forEach((p, i) => {
      if (seen.has(p.id))
        ctx.addIssue({
          code: "custom",
          path: ["principals", i, "id"],
          message: "a unique principal id",
        });
      seen.add(p.id);
      p.roles.forEach((r, j) => {
        if (!known.has(r))
          ctx.addIssue({
            code: "custom",
            path: ["principals", i, "roles", j],
            message: "a role defined under roles",
          });
      });
    });
    const roleRefs: Array<[readonly (string | number)[], readonly string[]]> = [
      [["bot", "defaultRoles"], cfg.bot.defaultRoles],
      [["voice", "changeRoles"], cfg.voice?.changeRoles ?? []],
    ];
    if (cfg.voice !== undefined && !cfg.http.enabled)
      ctx.addIssue({
        code: "custom",
        path: ["http", "enabled"],
        message: "true when voice is configured (the webhook is served over HTTP)",
      });
    checkProvision(cfg, ctx);
    for (const [path, roles] of roleRefs)
      roles.forEach((r, j) => {
        if (!known.has(r))
          ctx.addIssue({
            code: "custom",
            path: [...path, j],
            message: "a role defined under roles",
          });
      });
  });

/** Validated configuration. */
export type Config = z.infer<typeof configSchema>;
/** Parsed `host:port`. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Splits a validated `host:port` (IPv6 in brackets). */
export function parseListen(listen: string): ListenAddress {
  const m = LISTEN.exec(listen);
  const host = (m?.[1] ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  return { host, port: Number(m?.[2] ?? 0) };
}
