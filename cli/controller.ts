/**
 * What the controller-side subcommands (`fleet`, `nodes`) share: their connection and trust
 * flags, and opening a fleet controller from them.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../lib/errors.ts";
import { createLogger } from "../lib/log.ts";
import { waitReady } from "../lib/redis.ts";
import type { RedisClient } from "../lib/redis/client.ts";
import { connectUrl } from "../lib/redis/url.ts";
import {
  ENROLLMENT_LEDGER_FILE,
  createFleetExecutor,
  type FleetExecutor,
  ENROLLMENT_MODES,
  type EnrollmentMode,
  DEFAULT_REDIS_URL,
} from "../executors/fleet/index.ts";
import { parseWhere, parseWhereTerm, type WhereClause } from "../bot/commands/where.ts";
import type { CliIo } from "./command.ts";
import { InvalidArgumentError, MissingArgumentError } from "./errors.ts";
import { stateDir } from "./paths.ts";

/** Flags every controller-side subcommand takes (node:util parseArgs options). */
export const CONTROLLER_FLAGS = {
  redis: { type: "string" },
  key: { type: "string" },
  principal: { type: "string" },
  prefix: { type: "string" },
  "known-hosts": { type: "string" },
  enrollment: { type: "string" },
} as const;

/** Help lines for {@link CONTROLLER_FLAGS}. */
export const CONTROLLER_FLAGS_HELP = `  --redis URL           Redis URL (default $REDIS_URL or ${DEFAULT_REDIS_URL});
                        also sentinel://host:port,…/name and cluster://host:port,…
  --key PATH            controller private key (default $COMMODORE_KEY)
  --principal NAME      principal to sign as (default $COMMODORE_PRINCIPAL or commodore)
  --known-hosts PATH    OpenSSH known_hosts: plain lines accept host keys, @cert-authority
                        lines accept host certificates, @revoked lines refuse keys
  --enrollment MODE     manual (default: only accepted hosts count; see \`commodore nodes\`)
                        or tofu (accept the first key seen for each hostname)
  --prefix NAME         Redis key/channel prefix (default commodore)`;

/** Values of {@link CONTROLLER_FLAGS} as parsed. */
export interface ControllerFlagValues {
  readonly redis?: string | undefined;
  readonly key?: string | undefined;
  readonly principal?: string | undefined;
  readonly prefix?: string | undefined;
  readonly "known-hosts"?: string | undefined;
  readonly enrollment?: string | undefined;
}

/** A connected controller and what it runs on. */
export interface CliController {
  readonly executor: FleetExecutor;
  readonly redis: RedisClient;
  readonly redisUrl: string;
  /** Waits for Redis; resolves to an error message when it is unavailable. */
  ready(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Parses `--enrollment`. */
export function parseEnrollmentMode(command: string, value: string | undefined): EnrollmentMode {
  if (value === undefined) return "manual";
  const mode = ENROLLMENT_MODES.find((m) => m === value);
  if (mode === undefined)
    throw new InvalidArgumentError(command, "--enrollment", ENROLLMENT_MODES.join(" or "), value);
  return mode;
}

/** Parses repeated `--where` terms, naming the subcommand in errors. */
export function whereFlags(command: string, terms: readonly string[]): WhereClause {
  if (terms.length === 0) return { where: {}, filters: [] };
  for (const term of terms) {
    try {
      parseWhereTerm(term);
    } catch (err) {
      throw new InvalidArgumentError(
        command,
        "--where",
        `key=value, key!=glob, key=/regex/ or key>=N (${errorMessage(err)})`,
        term,
      );
    }
  }
  return parseWhere(terms, "--where key=glob");
}

/**
 * The enrollment ledger of the state directory, when there is one (the CLI on the bot's
 * machine shares the bot's, so a revocation made here is kept there too).
 */
function ledgerOption(env: NodeJS.ProcessEnv): { enrollmentLedgerPath?: string } {
  let dir: string;
  try {
    dir = stateDir(env);
  } catch {
    return {};
  }
  return existsSync(dir) ? { enrollmentLedgerPath: join(dir, ENROLLMENT_LEDGER_FILE) } : {};
}

/** Opens a controller from the flags (the key is required: it signs and verifies records). */
export function openController(
  command: string,
  values: ControllerFlagValues,
  io: CliIo,
  extra: { readonly ackTimeoutMs?: number } = {},
): CliController {
  const keyPath = values.key ?? io.env["COMMODORE_KEY"];
  if (keyPath === undefined)
    throw new MissingArgumentError(
      command,
      "--key PATH (or $COMMODORE_KEY): the controller's private key",
    );
  const enrollment = parseEnrollmentMode(command, values.enrollment);
  const redisUrl = values.redis ?? io.env["REDIS_URL"] ?? DEFAULT_REDIS_URL;
  const logger = createLogger({ level: "error", sink: (l) => io.stderr(`${l}\n`) });
  const redis = connectUrl({ url: redisUrl, name: `commodore-${command}-cli`, logger });
  const executor = createFleetExecutor({
    redis,
    keyPath,
    principal: values.principal ?? io.env["COMMODORE_PRINCIPAL"] ?? "commodore",
    logger,
    enrollment,
    ...extra,
    ...(values.prefix ? { prefix: values.prefix } : {}),
    ...(values["known-hosts"] ? { knownHostsPath: values["known-hosts"] } : {}),
    ...ledgerOption(io.env),
  });
  return {
    executor,
    redis,
    redisUrl,
    async ready() {
      try {
        await waitReady(redis, redisUrl);
        return undefined;
      } catch (err) {
        return errorMessage(err);
      }
    },
    async close() {
      await executor.close();
      redis.disconnect();
    },
  };
}
