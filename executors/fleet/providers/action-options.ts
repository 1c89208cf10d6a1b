/**
 * Agent configuration of the providers that change things or read files: which units
 * `service` may touch, which fixed commands `exec` may run (with validated argument slots),
 * what `pull` runs and which log files `log` may read. A provider whose section is absent is
 * not offered at all.
 */
import { z } from "zod";

const ms = z.number().int().positive();
const absPath = z
  .string()
  .max(4_096)
  .regex(/^\/[^\0\n]*$/, "an absolute path such as /usr/sbin/service");
const glob = z.string().min(1).max(255);
const key = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,63}$/, "a name of a-z 0-9 _ . - starting with a letter");
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "an environment variable name");
const env = z.record(envName, z.string().max(4_096)).default({});

/** `{name}` as a whole argv element marks an argument slot. */
export const SLOT_PLACEHOLDER = /^\{([a-z][a-z0-9_]{0,31})\}$/;

const argv = z
  .array(z.string().min(1).max(4_096))
  .min(1)
  .max(64)
  .refine((a) => a[0]?.startsWith("/") === true, "argv[0] to be an absolute path");

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

const execCommandSchema = z
  .object({
    /** Fixed argv; an element `{slot}` is replaced by the request's argument for that slot. */
    argv,
    /** Pattern per slot (anchored: the whole argument must match). */
    slots: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "a slot name"),
        z.string().min(1).max(512).refine(compiles, "a valid regular expression"),
      )
      .default({}),
    timeoutMs: ms.default(60_000),
    env,
  })
  .strict()
  .superRefine((cmd, ctx) => {
    const used = new Set(cmd.argv.flatMap((a) => SLOT_PLACEHOLDER.exec(a)?.[1] ?? []));
    for (const slot of used)
      if (!(slot in cmd.slots))
        ctx.addIssue({ code: "custom", path: ["slots", slot], message: `a pattern for {${slot}}` });
    for (const slot of Object.keys(cmd.slots))
      if (!used.has(slot))
        ctx.addIssue({ code: "custom", path: ["argv"], message: `{${slot}} used in argv` });
  });

/** Options of the `service` provider. */
export const serviceOptionsSchema = z
  .object({
    /** Unit names or globs (`nginx.service`, `php*-fpm`) this agent lets callers manage. */
    units: z.array(glob).default([]),
    /** `auto` uses systemctl when /run/systemd/system exists, else service(8). */
    manager: z.enum(["auto", "systemd", "sysv"]).default("auto"),
    systemctlPath: absPath.default("/bin/systemctl"),
    servicePath: absPath.default("/usr/sbin/service"),
    timeoutMs: ms.default(60_000),
  })
  .strict();

/** Options of the `exec` provider. */
export const execOptionsSchema = z
  .object({ commands: z.record(key, execCommandSchema).default({}) })
  .strict();

/** Options of the `pull` provider. */
export const pullOptionsSchema = z
  .object({
    /** E.g. ["/usr/bin/ansible-pull", "-U", "https://git.example.com/site.git"]. */
    argv,
    /** The tool's log file; its last `logLines` lines are returned. */
    logFile: absPath.optional(),
    logLines: z.number().int().min(1).max(1_000).default(40),
    /** Kept below the agent's maxExecTimeoutMs (default 300 s) so the log tail is reported. */
    timeoutMs: ms.default(240_000),
    env,
  })
  .strict();

/** Options of the `log` provider. */
export const logOptionsSchema = z
  .object({
    /** Name callers use → file path. */
    files: z.record(key, absPath).default({}),
    defaultLines: z.number().int().min(1).max(10_000).default(50),
    maxLines: z.number().int().min(1).max(10_000).default(500),
  })
  .strict();

/** Everything under the agent's `actions` key. */
export const actionProvidersSchema = z
  .object({
    service: serviceOptionsSchema.optional(),
    exec: execOptionsSchema.optional(),
    pull: pullOptionsSchema.optional(),
    log: logOptionsSchema.optional(),
    /** Bytes of output kept per stream (the last ones); larger output sets `truncated`. */
    maxOutputBytes: z
      .number()
      .int()
      .min(256)
      .max(32 * 1024)
      .default(16 * 1024),
    /** Time between SIGTERM and SIGKILL to a timed-out program's process group. */
    killGraceMs: ms.max(60_000).default(2_000),
  })
  .strict();

/** Parsed provider options. */
export type ActionProvidersConfig = z.infer<typeof actionProvidersSchema>;
/** Parsed `service` options. */
export type ServiceOptions = z.infer<typeof serviceOptionsSchema>;
/** Parsed `exec` options. */
export type ExecOptions = z.infer<typeof execOptionsSchema>;
/** Parsed `pull` options. */
export type PullOptions = z.infer<typeof pullOptionsSchema>;
/** Parsed `log` options. */
export type LogOptions = z.infer<typeof logOptionsSchema>;
