/**
 * The enrollment ledger: every revocation, rejection, re-acceptance and retirement this
 * controller made or saw, appended (and fsynced) to a file in the state directory before the
 * action is acknowledged. Redis is a bus, not a trust anchor, so Redis alone cannot undo a
 * decision the ledger holds:
 *
 * - a rejected key stays rejected when its record is deleted from Redis (the signed record is
 *   written back from the ledger), and
 * - a signed acceptance dated at or before the key's last rejection, or the hostname's
 *   retirement, is an old record replayed and is ignored; only a newer signed decision (an
 *   operator's `nodes accept`, recorded here too) changes the state.
 *
 * One JSON object a line; lines another process (the CLI, sharing the state directory) appends
 * are read at the next refresh. A line that does not parse is counted and skipped, never fatal.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { OptionsError } from "../../../lib/errors.ts";

/** The ledger's name in a state directory (the bot's and the CLI's `<state>/…`). */
export const ENROLLMENT_LEDGER_FILE = "enrollment-ledger.jsonl";
/** File mode of the ledger (it names hosts and keys; nothing secret, but nobody else's to edit). */
const LEDGER_MODE = 0o600;
/** Largest ledger read; past it the file is refused at start with how to compact it. */
export const MAX_LEDGER_BYTES = 64 * 1024 * 1024;
/** Longest ledger line (a signed record of a long key plus its envelope). */
const MAX_LEDGER_LINE = 64 * 1024;

const entrySchema = z.discriminatedUnion("event", [
  z.object({
    event: z.literal("rejected"),
    hostname: z.string().min(1).max(255),
    fingerprint: z.string().min(1).max(255),
    at: z.number().int().nonnegative(),
    /** The controller-signed rejection record, as stored in Redis. */
    record: z.string().min(1).max(MAX_LEDGER_LINE),
  }),
  z.object({
    event: z.literal("accepted"),
    hostname: z.string().min(1).max(255),
    fingerprint: z.string().min(1).max(255),
    at: z.number().int().nonnegative(),
  }),
  z.object({
    event: z.literal("retired"),
    hostname: z.string().min(1).max(255),
    at: z.number().int().nonnegative(),
  }),
]);
/** One ledger line. */
export type LedgerEntry = z.infer<typeof entrySchema>;

/** The latest decision the ledger holds for one key. */
export interface KeyVerdict {
  readonly state: "rejected" | "accepted";
  readonly at: number;
  readonly hostname: string;
  /** The signed rejection record (rejected only). */
  readonly record?: string;
}

/** The ledger file and what it says. */
export class EnrollmentLedger {
  private readonly keys = new Map<string, KeyVerdict>();
  private readonly retired = new Map<string, number>();
  private offset = 0;
  private partial = "";
  /** Lines that did not parse, since start. */
  skipped = 0;

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.catchUp();
  }

  /** The latest verdict on the key with `fingerprint`. */
  verdict(fingerprint: string): KeyVerdict | undefined {
    return this.keys.get(fingerprint);
  }

  /** Every key whose latest verdict is a rejection, with its signed record. */
  *rejections(): IterableIterator<[string, KeyVerdict]> {
    for (const entry of this.keys) if (entry[1].state === "rejected") yield entry;
  }

  /** When `hostname` was last retired (an acceptance dated at or before it is void). */
  retiredAt(hostname: string): number | undefined {
    return this.retired.get(hostname);
  }

  /** Reads what other processes appended since the last read. */
  catchUp(): void {
    if (!existsSync(this.path)) return;
    const fd = openSync(this.path, "r");
    try {
      const size = fstatSync(fd).size;
      if (size > MAX_LEDGER_BYTES)
        throw new OptionsError(
          `enrollment ledger ${this.path} is ${size} bytes, more than ${MAX_LEDGER_BYTES}`,
          "stop the bot and keep only each key's and host's last line (the file is one JSON object a line)",
        );
      if (size < this.offset) {
        // Replaced (restored from a backup): read again from the start.
        this.offset = 0;
        this.partial = "";
      }
      if (size === this.offset) return;
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const text = this.partial + buffer.toString("utf8");
      const lines = text.split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) this.apply(line);
    } finally {
      closeSync(fd);
    }
  }

  /** Appends `entry` and syncs it to disk; returns once it is durable. */
  append(entry: LedgerEntry): void {
    this.catchUp();
    const line = `${JSON.stringify(entry)}\n`;
    const fd = openSync(this.path, "a", LEDGER_MODE);
    try {
      writeSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.offset += Buffer.byteLength(line);
    this.record(entry);
  }

  private apply(line: string): void {
    if (line.trim() === "") return;
    if (line.length > MAX_LEDGER_LINE) {
      this.skipped++;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.skipped++;
      return;
    }
    const entry = entrySchema.safeParse(parsed);
    if (!entry.success) {
      this.skipped++;
      return;
    }
    this.record(entry.data);
  }

  private record(entry: LedgerEntry): void {
    if (entry.event === "retired") {
      this.retired.set(entry.hostname, Math.max(entry.at, this.retired.get(entry.hostname) ?? 0));
      return;
    }
    const old = this.keys.get(entry.fingerprint);
    if (old !== undefined && old.at > entry.at) return;
    this.keys.set(entry.fingerprint, {
      state: entry.event,
      at: entry.at,
      hostname: entry.hostname,
      ...(entry.event === "rejected" ? { record: entry.record } : {}),
    });
  }
}
