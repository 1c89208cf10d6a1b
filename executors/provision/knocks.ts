/**
 * Knocks: `commodore provision-hook <ip>` (run by knockd) only records "this address wants
 * provisioning" in Redis and exits. The bot's consumer turns each knock into a queued run for
 * the registered host with that address; the run still requires the host's pinned key. A
 * knock is unauthenticated and spoofable, so an unmatched one is dropped and counted.
 *
 * A plain knock says nothing but the address: the host's facts or `defaultPlaybook` choose the
 * playbook, exactly as for a knock on the network, so a Redis writer who pushes one gains
 * nothing a spoofed knock does not give. A knock that names a playbook must be sealed
 * (lib/seal.ts, kind `knock`, bound to the logical knock list, since `LMOVE` moves the raw
 * entry between the two lists): the hook seals it when given the controller key
 * (`--key`). An unsealed knock naming a playbook, or one whose seal fails, is dropped.
 */
import { CommodoreError, errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { MetricsRegistry, type Counter } from "../../lib/metrics.ts";
import type { RedisClient } from "../../lib/redis/client.ts";
import type { StateSealer } from "../../lib/seal.ts";
import { RunAlreadyPendingError } from "./errors.ts";
import { hostsWithAddress, type HostDirectory } from "./hosts.ts";
import { normalizeAddress, type NetworkSet } from "./net.ts";
import { choosePlaybook, type PlaybookDefaults } from "./playbooks.ts";
import type { ProvisionQueue } from "./queue/queue.ts";

/** One knock as stored in Redis. */
export interface Knock {
  readonly ip: string;
  readonly playbook?: string;
  readonly at: string;
}

/** How often the consumer looks for knocks. */
export const DEFAULT_KNOCK_POLL_MS = 250;
/** Record kind of a sealed knock. */
export const KNOCK_KIND = "knock";
/** Largest knock read: room for a sealed one with a long playbook name. */
const MAX_KNOCK_BYTES = 4_096;

/**
 * The list knocks wait in, and the one they sit in while being handled (moved between with
 * `LMOVE`, so both share the prefix's hash tag).
 */
export function knockKeys(prefix: string): { list: string; processing: string } {
  return { list: `${prefix}knocks`, processing: `${prefix}knocks:processing` };
}

/**
 * Records a knock (used by the CLI hook), sealed when a sealer is given. Without one the knock
 * must not name a playbook: the consumer would drop it.
 */
export async function pushKnock(
  redis: RedisClient,
  prefix: string,
  knock: Knock,
  sealer?: StateSealer,
): Promise<void> {
  const list = knockKeys(prefix).list;
  await redis.rpush(
    list,
    sealer === undefined ? JSON.stringify(knock) : sealer.seal(KNOCK_KIND, list, knock),
  );
}

function knockFrom(value: unknown): Knock | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ip = typeof v["ip"] === "string" ? normalizeAddress(v["ip"]) : undefined;
  if (ip === undefined || typeof v["at"] !== "string") return undefined;
  const playbook = typeof v["playbook"] === "string" ? v["playbook"] : undefined;
  return playbook === undefined ? { ip, at: v["at"] } : { ip, playbook, at: v["at"] };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Dependencies of {@link KnockConsumer}. */
export interface KnockConsumerDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly queue: Pick<ProvisionQueue, "enqueue">;
  readonly directory: HostDirectory;
  readonly defaults: PlaybookDefaults;
  readonly tofuNetworks: NetworkSet;
  /** Verifies sealed knocks (the controller key's sealer). */
  readonly sealer: StateSealer;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  readonly pollMs?: number;
}

/** Drains knocks from Redis into the provisioning queue. */
export class KnockConsumer {
  private readonly keys: { list: string; processing: string };
  private readonly log: Logger;
  private readonly counter: Counter;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;

  constructor(private readonly deps: KnockConsumerDeps) {
    this.keys = knockKeys(deps.prefix);
    this.log = deps.logger.child({ component: "provision-knocks" });
    this.counter = (deps.metrics ?? new MetricsRegistry()).counter(
      "commodore_provision_knocks_total",
      "Knocks received, by result",
    );
  }

  /** Puts back knocks a dead consumer was handling, then polls. */
  async start(): Promise<void> {
    while (
      (await this.deps.redis.lmove(this.keys.processing, this.keys.list, "RIGHT", "LEFT")) !== null
    );
    this.timer = setInterval(() => void this.drain(), this.deps.pollMs ?? DEFAULT_KNOCK_POLL_MS);
    this.timer.unref();
  }

  /** Stops polling and waits for the knock in hand. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.draining;
  }

  /** Handles every waiting knock; returns when the list is empty. */
  async drain(): Promise<void> {
    if (this.draining) return await this.draining;
    this.draining = (async () => {
      try {
        for (;;) {
          const raw = await this.deps.redis.lmove(
            this.keys.list,
            this.keys.processing,
            "LEFT",
            "RIGHT",
          );
          if (raw === null) return;
          await this.handle(raw);
          await this.deps.redis.lrem(this.keys.processing, 1, raw);
        }
      } catch (err) {
        this.log.warn("knock consumer failed; knock kept for a retry", {
          error: errorMessage(err),
        });
        await this.deps.redis
          .lmove(this.keys.processing, this.keys.list, "RIGHT", "LEFT")
          .catch(() => undefined);
      } finally {
        this.draining = undefined;
      }
    })();
    return await this.draining;
  }

  private drop(result: string, msg: string, fields: Record<string, unknown>): void {
    this.counter.inc({ result });
    this.log.warn(msg, fields);
  }

  /** The knock in `raw`, or undefined after dropping (and counting) it. */
  private decode(raw: string): Knock | undefined {
    if (raw.length > MAX_KNOCK_BYTES) {
      this.drop("malformed", "malformed knock dropped", { bytes: raw.length });
      return undefined;
    }
    const { sealer } = this.deps;
    const list = this.keys.list;
    const sealed = sealer.verify(KNOCK_KIND, list, raw);
    if (!sealed.ok && sealed.reason !== "unsigned") {
      sealer.reject(KNOCK_KIND, list, sealed.reason, sealed.detail);
      if (sealed.reason === "malformed")
        this.drop("malformed", "malformed knock dropped", { bytes: raw.length });
      else this.drop("unverified", "knock with a bad seal dropped", { reason: sealed.reason });
      return undefined;
    }
    const knock = knockFrom(sealed.ok ? sealed.value : parseJson(raw));
    if (!knock) {
      this.drop("malformed", "malformed knock dropped", { bytes: raw.length });
      return undefined;
    }
    if (!sealed.ok && knock.playbook !== undefined) {
      sealer.reject(KNOCK_KIND, list, "unsigned", "an unsealed knock may not name a playbook");
      this.drop("unverified", "unsealed knock naming a playbook dropped", { ip: knock.ip });
      return undefined;
    }
    return knock;
  }

  private async handle(raw: string): Promise<void> {
    const knock = this.decode(raw);
    if (!knock) return;
    const matches = hostsWithAddress(await this.deps.directory.list(), knock.ip);
    if (matches.length > 1) {
      return this.drop("multiple", "knock matches several hosts; dropped", { ip: knock.ip });
    }
    const host = matches[0];
    if (!host && !this.deps.tofuNetworks.contains(knock.ip)) {
      return this.drop("no_match", "knock from an address no registered host has; dropped", {
        ip: knock.ip,
      });
    }
    const playbook = choosePlaybook(this.deps.defaults, knock.playbook, host?.facts);
    if (playbook === undefined) {
      return this.drop("no_playbook", "knock names no playbook and none is configured", {
        ip: knock.ip,
      });
    }
    try {
      const { jobId } = await this.deps.queue.enqueue({
        host: host?.hostname ?? knock.ip,
        address: knock.ip,
        playbook,
        trigger: "knock",
        check: false,
        requestedBy: `knock:${knock.ip}`,
      });
      this.counter.inc({ result: "queued" });
      this.log.info("knock queued", { ip: knock.ip, host: host?.hostname, playbook, jobId });
    } catch (err) {
      if (err instanceof RunAlreadyPendingError) {
        this.counter.inc({ result: "pending" });
        return;
      }
      if (!(err instanceof CommodoreError)) throw err;
      this.drop("refused", "knock refused", { ip: knock.ip, error: errorMessage(err) });
    }
  }
}
