/**
 * Sealed controller state. Redis is a bus, not a trust anchor: a record the controller keeps
 * there and later acts on (a pending confirmation, a job, a provisioning queue entry) carries
 * an HMAC-SHA256, so whoever can write to Redis cannot plant one or edit one unnoticed.
 *
 * Stored form, a JSON envelope:
 *
 *     {"v":1,"kid":"<8 bytes, base64url>","payload":"<the record as JSON text>","mac":"<32 bytes, base64url>"}
 *
 * The MAC covers a domain-separated message: the version tag, the record kind, the Redis key
 * the record belongs under and the payload, each as a 4-byte big-endian length followed by its
 * UTF-8 bytes. A record therefore verifies only as the kind it was sealed as and only under the
 * key it was sealed for: it cannot be moved to another key, code or job.
 *
 * The MAC key is derived with HKDF-SHA256 from the controller's private key (its PKCS#8 DER
 * encoding) with a fixed info string: every replica holding the controller key derives the
 * same key and no new secret has to be distributed. `kid` is a public key id (an HMAC of a
 * fixed label) that tells "sealed under another controller key" apart from "edited"; it is not
 * trusted for anything else. Key material never appears in an error, a log line or `inspect`.
 */
import {
  createHmac,
  createSecretKey,
  hkdfSync,
  timingSafeEqual,
  type KeyObject,
} from "node:crypto";
import { CommodoreError } from "./errors.ts";
import { silentLogger, type Logger } from "./log.ts";
import { MetricsRegistry, type Counter } from "./metrics.ts";

/** Envelope version this code writes and reads. */
export const SEAL_VERSION = 1;
/** First field of every MAC input; changes with {@link SEAL_VERSION}. */
const SEAL_TAG = "commodore-state-seal-v1";
/** HKDF info string: binds the derived key to this one use of the controller key. */
const HKDF_INFO = "commodore controller state seal v1 hmac-sha256 key";
/** Bytes of the derived MAC key. */
const MAC_KEY_BYTES = 32;
/** Bytes of an HMAC-SHA256 tag. */
const MAC_BYTES = 32;
/** Bytes of the public key id. */
const KEY_ID_BYTES = 8;
/** Label the key id is computed over. */
const KEY_ID_LABEL = "commodore state seal key id";
/** A MAC as stored: 32 bytes in unpadded base64url. */
const MAC_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** A key id as stored: 8 bytes in unpadded base64url. */
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{11}$/;
/** Record kinds: short lowercase names such as `confirm` or `provision-spec`. */
const KIND_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
/** Bytes of the length prefix of each MAC input field. */
const LENGTH_PREFIX_BYTES = 4;
/** The envelope's fields, exactly. */
const ENVELOPE_FIELDS = ["kid", "mac", "payload", "v"];

/** Why {@link StateSealer.verify} refused a stored record. */
export type SealVerifyReason =
  /** Not an envelope at all: a plain record, e.g. written by hand into Redis. */
  | "unsigned"
  /** Not JSON, or an envelope with missing, extra or ill-typed fields or another version. */
  | "malformed"
  /** Sealed under a different controller key (another key id). */
  | "wrong_key"
  /** The MAC does not match: the payload, kind or key differ from what was sealed. */
  | "bad_mac";

/**
 * Why a record was refused: a verification failure, or a check the caller makes on a verified
 * record (`replayed`: already consumed; `expired`: kept in Redis past its sealed expiry).
 */
export type SealRejectReason = SealVerifyReason | "replayed" | "expired";

/** What opening a stored record gives. */
export type OpenResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: SealVerifyReason; readonly detail: string };

/** Misuse of the sealer by the code (never caused by what is stored in Redis). */
export class SealError extends CommodoreError {
  constructor(message: string) {
    super("E_STATE_SEAL", message, {
      hint: "this is a bug in the caller: report it with the log line",
    });
  }
}

/** Where rejections are counted and logged. */
export interface StateSealerOptions {
  /** Registry for `commodore_state_rejected_total{kind, reason}`; a private one when omitted. */
  readonly metrics?: MetricsRegistry;
  /** Receives one warning per refused record (kind, Redis key, reason; never the payload). */
  readonly logger?: Logger;
}

/** Name of the rejection counter. */
export const STATE_REJECTED_METRIC = "commodore_state_rejected_total";

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const length = Buffer.alloc(LENGTH_PREFIX_BYTES);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function checkKind(kind: string): void {
  if (!KIND_PATTERN.test(kind))
    throw new SealError(`record kind ${JSON.stringify(kind)} is not a short lowercase name`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Seals records before they go to Redis and verifies them when they come back. */
export class StateSealer {
  readonly #macKey: KeyObject;
  readonly #keyId: string;
  readonly #rejected: Counter;
  readonly #log: Logger;

  private constructor(macKey: KeyObject, options: StateSealerOptions) {
    this.#macKey = macKey;
    this.#keyId = createHmac("sha256", macKey)
      .update(KEY_ID_LABEL)
      .digest()
      .subarray(0, KEY_ID_BYTES)
      .toString("base64url");
    this.#rejected = (options.metrics ?? new MetricsRegistry()).counter(
      STATE_REJECTED_METRIC,
      "Sealed records read from Redis and refused, by kind and reason",
    );
    this.#log = (options.logger ?? silentLogger).child({ component: "state-seal" });
  }

  /**
   * A sealer keyed from the controller's private key (as `loadPrivateKey` or
   * `crypto.generateKeyPairSync` give it). The same key always gives the same sealer.
   */
  static fromPrivateKey(privateKey: KeyObject, options: StateSealerOptions = {}): StateSealer {
    if (privateKey.type !== "private")
      throw new SealError(`expected a private key, got a ${privateKey.type} key`);
    const material = privateKey.export({ format: "der", type: "pkcs8" });
    const derived = Buffer.from(
      hkdfSync("sha256", material, Buffer.alloc(0), HKDF_INFO, MAC_KEY_BYTES),
    );
    try {
      return new StateSealer(createSecretKey(derived), options);
    } finally {
      material.fill(0);
      derived.fill(0);
    }
  }

  /** The public id of this sealer's key (same for every replica holding the controller key). */
  get keyId(): string {
    return this.#keyId;
  }

  /** The stored form of `value`, a {@link JSON}-serialisable record of `kind` kept at `redisKey`. */
  seal(kind: string, redisKey: string, value: unknown): string {
    checkKind(kind);
    const payload = JSON.stringify(value) as string | undefined;
    if (payload === undefined) throw new SealError(`a ${kind} record must be a JSON value`);
    const mac = this.mac(kind, redisKey, payload).toString("base64url");
    return JSON.stringify({ v: SEAL_VERSION, kid: this.#keyId, payload, mac });
  }

  /**
   * Verifies `raw` as a `kind` record stored at `redisKey`, without counting or logging a
   * failure (callers that tolerate unsigned input decide first, then {@link reject}). The
   * value is what {@link seal} was given, so the cast to `T` holds as long as a kind is only
   * ever sealed with one type.
   */
  verify<T>(kind: string, redisKey: string, raw: string): OpenResult<T> {
    checkKind(kind);
    const refuse = (reason: SealVerifyReason, detail: string): OpenResult<T> => ({
      ok: false,
      reason,
      detail,
    });
    let envelope: unknown;
    try {
      envelope = JSON.parse(raw);
    } catch {
      return refuse("malformed", "not JSON");
    }
    if (!isPlainObject(envelope)) return refuse("malformed", "not a JSON object");
    if (!("mac" in envelope) && !("v" in envelope)) return refuse("unsigned", "no seal");
    const fields = Object.keys(envelope).sort();
    if (fields.join(",") !== ENVELOPE_FIELDS.join(","))
      return refuse("malformed", `envelope fields must be exactly ${ENVELOPE_FIELDS.join(", ")}`);
    const { v, kid, payload, mac } = envelope;
    if (v !== SEAL_VERSION) return refuse("malformed", "unsupported seal version");
    if (typeof payload !== "string") return refuse("malformed", "payload is not a string");
    if (typeof mac !== "string" || !MAC_PATTERN.test(mac))
      return refuse("malformed", "MAC is not 32 bytes of base64url");
    if (typeof kid !== "string" || !KEY_ID_PATTERN.test(kid))
      return refuse("malformed", "key id is not 8 bytes of base64url");
    if (kid !== this.#keyId)
      return refuse("wrong_key", `sealed under key id ${kid}, this controller's is ${this.#keyId}`);
    const expected = this.mac(kind, redisKey, payload);
    const given = Buffer.from(mac, "base64url");
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, expected))
      return refuse("bad_mac", "MAC does not match the kind, key and payload");
    try {
      return { ok: true, value: JSON.parse(payload) as T };
    } catch {
      return refuse("malformed", "payload is not JSON");
    }
  }

  /** {@link verify}, counting and logging a refusal. */
  open<T>(kind: string, redisKey: string, raw: string): OpenResult<T> {
    const result = this.verify<T>(kind, redisKey, raw);
    if (!result.ok) this.reject(kind, redisKey, result.reason, result.detail);
    return result;
  }

  /**
   * Counts a refused record in `commodore_state_rejected_total{kind, reason}` and logs the
   * kind, the Redis key and the reason (callers pass a detail free of record contents).
   */
  reject(kind: string, redisKey: string, reason: SealRejectReason, detail: string): void {
    this.#rejected.inc({ kind, reason });
    this.#log.warn("sealed state refused", { kind, redisKey, reason, detail });
  }

  private mac(kind: string, redisKey: string, payload: string): Buffer {
    return createHmac("sha256", this.#macKey)
      .update(lengthPrefixed(SEAL_TAG))
      .update(lengthPrefixed(kind))
      .update(lengthPrefixed(redisKey))
      .update(lengthPrefixed(payload))
      .digest();
  }
}
