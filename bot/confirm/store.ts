/**
 * Pending confirmations of dangerous commands, kept in Redis under a short code that expires
 * (5 minutes by default) and can be used once.
 *
 * Records are sealed (lib/seal.ts): bound to their code's key, so a Redis writer can neither
 * plant one (say with `risk: read` or another requester) nor edit or move one. A consumed
 * record's random nonce is remembered (`<prefix>confirm:used:<nonce>`, `SET NX`) until well
 * after its sealed expiry, so re-`SET`ting an old record under its code does not run it twice.
 */
import { randomBytes, randomInt } from "node:crypto";
import { CommodoreError } from "../../lib/errors.ts";
import type { RedisClient } from "../../lib/redis/client.ts";
import type { SealVerifyReason, StateSealer } from "../../lib/seal.ts";
import type { Principal, TransportName } from "../contract.ts";
import type { ArgValues, OptionValues, Risk } from "../commands/types.ts";
import type { FactCondition, FactFilter } from "../../executors/fleet/index.ts";

/** Letters and digits that are hard to confuse when read aloud or typed. */
const CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
/** Length of a confirmation code. */
export const CODE_LENGTH = 6;
/** What a valid code looks like. */
export const CODE_PATTERN = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);
/** Record kind of a pending confirmation in its seal. */
export const CONFIRM_KIND = "confirm";
/** Random bytes of a record's nonce (hex in the record). */
const NONCE_BYTES = 16;
const MS_PER_SECOND = 1_000;

/** A dangerous command waiting for `confirm <code>`. */
export interface PendingConfirmation {
  readonly code: string;
  /** Random per record: what the consumed marker remembers. */
  readonly nonce: string;
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

/** The record stored under a code failed verification: planted, edited or moved. */
export class ConfirmTamperedError extends CommodoreError {
  constructor(
    code: string,
    readonly reason: SealVerifyReason,
  ) {
    super(
      "E_CONFIRM_TAMPERED",
      `the pending command for code ${code} failed verification (${reason}) and was refused`,
      {
        hint: "ask for the command again to get a new code, and tell an administrator: the record in Redis was not written by this bot",
      },
    );
  }
}

/** The record stored under a code was already confirmed once (a replay). */
export class ConfirmReplayedError extends CommodoreError {
  constructor(code: string) {
    super("E_CONFIRM_REPLAYED", `code ${code} was already used and cannot run again`, {
      hint: "ask for the command again to get a new code, and tell an administrator: an old confirmation was written back into Redis",
    });
  }
}

/** Stores pending confirmations. */
export class ConfirmStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly sealer: StateSealer,
  ) {}

  /** Stores a pending command and returns it with its code, nonce and expiry. */
  async put(
    pending: Omit<PendingConfirmation, "code" | "nonce" | "expiresAt">,
  ): Promise<PendingConfirmation> {
    const expiresAt = new Date(Date.now() + this.ttlSeconds * MS_PER_SECOND).toISOString();
    for (;;) {
      const code = Array.from(
        { length: CODE_LENGTH },
        () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)],
      ).join("");
      const nonce = randomBytes(NONCE_BYTES).toString("hex");
      const full: PendingConfirmation = { ...pending, code, nonce, expiresAt };
      const key = this.key(code);
      const set = await this.redis.set(
        key,
        this.sealer.seal(CONFIRM_KIND, key, full),
        "EX",
        this.ttlSeconds,
        "NX",
      );
      if (set === "OK") return full;
    }
  }

  /**
   * The pending command for `code` without consuming it; undefined when there is none or it
   * has expired. Throws ConfirmTamperedError for a record this bot did not seal for this code
   * and ConfirmReplayedError for one already consumed.
   */
  async peek(code: string): Promise<PendingConfirmation | undefined> {
    if (!CODE_PATTERN.test(code)) return undefined;
    const key = this.key(code);
    const raw = await this.redis.get(key);
    if (raw === null) return undefined;
    const pending = this.open(code, key, raw);
    if (this.expired(pending)) return undefined;
    if ((await this.redis.exists(this.usedKey(pending.nonce))) === 1) {
      this.sealer.reject(CONFIRM_KIND, key, "replayed", "nonce already consumed");
      throw new ConfirmReplayedError(code);
    }
    return pending;
  }

  /**
   * Consumes `code` atomically: only one caller ever gets it back, and a record written back
   * after it was consumed is refused (ConfirmReplayedError). Throws ConfirmTamperedError like
   * {@link peek}; undefined when there is no record or it has expired.
   */
  async take(code: string): Promise<PendingConfirmation | undefined> {
    if (!CODE_PATTERN.test(code)) return undefined;
    const key = this.key(code);
    const raw = await this.redis.getdel(key);
    if (raw === null) return undefined;
    const pending = this.open(code, key, raw);
    if (this.expired(pending)) {
      this.sealer.reject(CONFIRM_KIND, key, "expired", "kept in Redis past its sealed expiry");
      return undefined;
    }
    // The marker outlives the record's expiry by a whole TTL, so a replica whose clock lags
    // still sees an old record as expired once the marker is gone.
    const remaining = Math.ceil((Date.parse(pending.expiresAt) - Date.now()) / MS_PER_SECOND);
    const fresh = await this.redis.set(
      this.usedKey(pending.nonce),
      code,
      "EX",
      Math.max(1, remaining) + this.ttlSeconds,
      "NX",
    );
    if (fresh !== "OK") {
      this.sealer.reject(CONFIRM_KIND, key, "replayed", "nonce already consumed");
      throw new ConfirmReplayedError(code);
    }
    return pending;
  }

  private open(code: string, key: string, raw: string): PendingConfirmation {
    const opened = this.sealer.open<PendingConfirmation>(CONFIRM_KIND, key, raw);
    if (!opened.ok) throw new ConfirmTamperedError(code, opened.reason);
    return opened.value;
  }

  private expired(pending: PendingConfirmation): boolean {
    return !(Date.parse(pending.expiresAt) > Date.now());
  }

  private key(code: string): string {
    return `${this.prefix}confirm:${code}`;
  }

  private usedKey(nonce: string): string {
    return `${this.prefix}confirm:used:${nonce}`;
  }
}
