/**
 * Configuration of the provisioning executor, validated with zod at the boundary.
 *
 * Secrets never live here in clear: callback keys are given as a SHA-256 digest or as the name
 * of an environment variable holding the key, and the SSH private key as a file path.
 */
import { z } from "zod";
import { OptionsError } from "../../lib/errors.ts";
import { parseCidr } from "./net.ts";

/** Default number of playbook runs at once. */
export const DEFAULT_CONCURRENCY = 4;
/** Default number of retries when the host is unreachable. */
export const DEFAULT_RETRIES = 3;
/** Default first retry delay (doubles each attempt). */
export const DEFAULT_RETRY_BASE_MS = 30_000;
/** Default longest retry delay. */
export const DEFAULT_RETRY_CAP_MS = 600_000;
/** Default limit for one ansible-playbook run. */
export const DEFAULT_TIMEOUT_MS = 30 * 60_000;
/** Default time after which a silent worker's running jobs are taken back. */
export const DEFAULT_LEASE_MS = 15_000;
/** Default interval at which the bot looks for new agent registrations (first boot). */
export const DEFAULT_FIRST_BOOT_POLL_MS = 2_000;
/**
 * Default key prefix. Its `{…}` hash tag puts every provisioning key in one Redis Cluster
 * slot: the queue's Lua scripts derive job keys inside the script, and knocks move between
 * two lists atomically.
 */
export const DEFAULT_REDIS_PREFIX = "{commodore:provision}:";
/** A key prefix carrying a non-empty hash tag (Redis hashes the text between the first `{…}`). */
export const HASH_TAGGED_PREFIX = /^[^{]*\{[^}]+\}/;
const MAX_CONCURRENCY = 64;
const MAX_RETRIES = 20;
/** Most environment variable names `passEnv` may list. */
const MAX_PASS_ENV = 64;
const MAX_PORT = 65_535;
const MAX_PREFIX = 128;

/** A playbook name: letters, digits, `_`, `.`, `-`; never a path. */
export const PLAYBOOK_NAME = /^[A-Za-z0-9_.-]+$/;
/** An extra-var name as ansible accepts it. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const playbookName = z
  .string()
  .regex(PLAYBOOK_NAME, "a playbook name (letters, digits, _ . -), not a path")
  .refine((s) => s !== "." && s !== "..", "a playbook name, not . or ..");
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, "a CIDR such as 10.0.0.0/8");
const callbackKey = z.union([
  z.object({ hostConfigKeySha256: z.string().regex(/^[0-9a-f]{64}$/i, "64 hex digits") }).strict(),
  z
    .object({ hostConfigKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an env variable name") })
    .strict(),
]);

/** The zod schema of `provision` options. */
export const provisionOptionsSchema = z
  .object({
    playbookDir: z.string().min(1),
    logDir: z.string().min(1),
    /** Where per-run inventory, known_hosts and ansible.cfg are written (default: OS temp). */
    workDir: z.string().min(1).optional(),
    remoteUser: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "a user name"),
    /** Path of the SSH private key ansible logs in with. */
    privateKey: z.string().min(1),
    sshPort: z.number().int().min(1).max(MAX_PORT).default(22),
    ansiblePlaybook: z.string().min(1).default("ansible-playbook"),
    sshKeyscan: z.string().min(1).default("ssh-keyscan"),
    extraVarsAllowList: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
    /**
     * Environment variables of the bot passed on to ansible-playbook besides the fixed minimal
     * set (PATH, HOME, LANG, LC_ALL, LC_CTYPE, TZ, TMPDIR, USER, LOGNAME); nothing else of the
     * bot's environment (tokens, passwords, Redis URLs) ever reaches a playbook.
     */
    passEnv: z
      .array(z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "an environment variable name"))
      .max(MAX_PASS_ENV)
      .refine((names) => !names.some((n) => n.startsWith("ANSIBLE_")), {
        message: "names without the ANSIBLE_ prefix (the runner sets those itself)",
      })
      .default([]),
    defaultPlaybook: playbookName.optional(),
    concurrency: z.number().int().min(1).max(MAX_CONCURRENCY).default(DEFAULT_CONCURRENCY),
    retries: z
      .object({
        max: z.number().int().min(0).max(MAX_RETRIES).default(DEFAULT_RETRIES),
        baseMs: z.number().int().min(0).default(DEFAULT_RETRY_BASE_MS),
        capMs: z.number().int().min(0).default(DEFAULT_RETRY_CAP_MS),
      })
      .strict()
      .default({}),
    timeoutMs: z.number().int().min(1).default(DEFAULT_TIMEOUT_MS),
    leaseMs: z.number().int().min(1).default(DEFAULT_LEASE_MS),
    callback: z
      .object({
        playbooks: z.record(playbookName, callbackKey).default({}),
        trustedProxies: z.array(cidr).default([]),
      })
      .strict()
      .default({}),
    firstBoot: z
      .object({
        factKey: z.string().min(1).default("role"),
        map: z.record(z.string(), playbookName).default({}),
        /** How often the registry is read for new registrations. */
        pollMs: z.number().int().min(1).default(DEFAULT_FIRST_BOOT_POLL_MS),
      })
      .strict()
      .default({}),
    tofuNetworks: z.array(cidr).default([]),
    notices: z
      .object({ channels: z.array(z.string().min(1)).default([]) })
      .strict()
      .default({}),
    redisPrefix: z
      .string()
      .max(MAX_PREFIX)
      .regex(
        HASH_TAGGED_PREFIX,
        "a key prefix with a hash tag such as {commodore:provision}: (one Redis Cluster slot for every provisioning key)",
      )
      .default(DEFAULT_REDIS_PREFIX),
  })
  .strict();

/** Validated provisioning options. */
export type ProvisionOptions = z.infer<typeof provisionOptionsSchema>;
/** Provisioning options as written in configuration (defaults not yet applied). */
export type ProvisionOptionsInput = z.input<typeof provisionOptionsSchema>;

function describeFound(input: unknown, path: readonly (string | number)[]): string {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return "nothing";
    cur = (cur as Record<string | number, unknown>)[key];
  }
  if (cur === undefined) return "nothing";
  const text = JSON.stringify(cur) ?? String(cur);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Validates options, throwing an OptionsError that names each bad path, expectation and value. */
export function parseProvisionOptions(input: unknown, at = "provision"): ProvisionOptions {
  const parsed = provisionOptionsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = [at, ...issue.path].join(".");
    const secretish = /key/i.test(String(issue.path.at(-1)));
    const found = secretish ? "[redacted]" : describeFound(input, issue.path);
    const expected = issue.code === "invalid_type" ? issue.expected : issue.message;
    return `${path}: expected ${expected}, found ${found}`;
  });
  throw new OptionsError(
    `invalid provisioning options: ${problems.join("; ")}`,
    "fix these fields in the provision section of the configuration (see docs/provisioning.md)",
  );
}
