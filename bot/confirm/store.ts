/**
 * Pending confirmations of dangerous commands, kept in Redis under a short code that expires
 * (5 minutes by default) and can be used once.
 */
import { randomInt } from "node:crypto";
import type { RedisClient } from "../../lib/redis/client.ts";
import type { Principal, TransportName } from "../contract.ts";
import type { ArgValues, OptionValues, Risk } from "../commands/types.ts";
import type { FactCondition, FactFilter } from "../../executors/fleet/types.ts";

/** Letters and digits that are hard to confuse when read aloud or typed. */
const CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
/** Length of a confirmation code. */
export const CODE_LENGTH = 6;
/** What a valid code looks like. */
export const CODE_PATTERN = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);

/** A dangerous command waiting for `confirm <code>`. */
export interface PendingConfirmation {
  readonly code: string;
  readonly requester: Principal;
  readonly transport: TransportName;
  readonly origin?: string;
  readonly text: string;
  /** Canonical command name and its authorized arguments and targets. */
  readonly command: string;
  readonly args: ArgValues;
  readonly where: FactFilter;
  readonly filters?: readonly FactCondition[];
  readonly options?: OptionValues;
  readonly risk: Risk;
  readonly targets: readonly string[];
  readonly summary: string;
  readonly expiresAt: string;
  readonly needsOtherPerson: boolean;
}

/** Stores pending confirmations. */
export class ConfirmStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  /** Stores a pending command and returns it with its code and expiry. */
  async put(
    pending: Omit<PendingConfirmation, "code" | "expiresAt">,
  ): Promise<PendingConfirmation> {
    const expiresAt = new Date(Date.now() + this.ttlSeconds * 1_000).toISOString();
    for (;;) {
      const code = Array.from(
        { length: CODE_LENGTH },
        () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)],
      ).join("");
      const full: PendingConfirmation = { ...pending, code, expiresAt };
      const set = await this.redis.set(
        this.key(code),
        JSON.stringify(full),
        "EX",
        this.ttlSeconds,
        "NX",
      );
      if (set === "OK") return full;
    }
  }

  /** The pending command for `code` without consuming it. */
  async peek(code: string): Promise<PendingConfirmation | undefined> {
    if (!CODE_PATTERN.test(code)) return undefined;
    const raw = await this.redis.get(this.key(code));
    return raw === null ? undefined : (JSON.parse(raw) as PendingConfirmation);
  }

  /** Consumes `code` atomically: only one caller ever gets it back. */
  async take(code: string): Promise<PendingConfirmation | undefined> {
    if (!CODE_PATTERN.test(code)) return undefined;
    const raw = await this.redis.getdel(this.key(code));
    return raw === null ? undefined : (JSON.parse(raw) as PendingConfirmation);
  }

  private key(code: string): string {
    return `${this.prefix}confirm:${code}`;
  }
}
