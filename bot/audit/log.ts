/**
 * The audit log: one JSON line per command, including refused ones, appended to a file and
 * to a capped Redis stream. `latest(n)` reads the stream back for the `audit` command.
 */
import { mkdirSync, type WriteStream, createWriteStream } from "node:fs";
import { dirname } from "node:path";
import type { RedisClient } from "../../lib/redis/client.ts";
import type { Logger } from "../../lib/log.ts";
import type { TransportName } from "../contract.ts";

/** What happened to a command. */
export type AuditOutcome = "ok" | "failed" | "refused" | "error" | "pending_confirmation";

/** One audit line. */
export interface AuditEntry {
  readonly time: string;
  readonly principal: string;
  /** How the caller appeared on its transport (`alice!a@host`, `token:ci`). */
  readonly display: string;
  readonly transport: TransportName;
  readonly origin?: string;
  /** The command text as typed. */
  readonly text: string;
  /** Canonical command name, when the text parsed. */
  readonly command?: string;
  readonly args?: Readonly<Record<string, unknown>>;
  readonly where?: Readonly<Record<string, string>>;
  readonly targets?: readonly string[];
  readonly jobId?: string;
  readonly outcome: AuditOutcome;
  /** Error code for refused or failed commands. */
  readonly code?: string;
  readonly message?: string;
  /** When this line confirms someone else's dangerous command: who asked for it. */
  readonly requestedBy?: string;
  readonly durationMs: number;
}

/** Options for {@link AuditLog}. */
export interface AuditLogOptions {
  /** Append-only file; created with its directory when missing. */
  readonly file?: string;
  readonly redis: RedisClient;
  readonly streamKey: string;
  /** Approximate number of entries the stream keeps. */
  readonly streamMaxLen: number;
  readonly logger: Logger;
  /** Called when a write fails, e.g. to count it in metrics. */
  readonly onWriteError?: (target: "file" | "stream") => void;
}

/** Appends audit entries; never throws to its caller. */
export class AuditLog {
  private readonly file: WriteStream | undefined;

  constructor(private readonly options: AuditLogOptions) {
    if (options.file !== undefined) {
      mkdirSync(dirname(options.file), { recursive: true });
      this.file = createWriteStream(options.file, { flags: "a", mode: 0o600 });
      this.file.on("error", (err) => {
        options.logger.error("audit file write failed", { error: err });
        options.onWriteError?.("file");
      });
    }
  }

  /** Writes one entry to the file and the stream; resolves once both writes are done. */
  async write(entry: AuditEntry): Promise<void> {
    const line = JSON.stringify(entry);
    const file = this.file;
    if (file) await new Promise<void>((resolve) => file.write(line + "\n", () => resolve()));
    try {
      await this.options.redis.xadd(
        this.options.streamKey,
        "MAXLEN",
        "~",
        this.options.streamMaxLen,
        "*",
        "entry",
        line,
      );
    } catch (err) {
      this.options.logger.error("audit stream write failed", { error: err });
      this.options.onWriteError?.("stream");
    }
  }

  /** The newest `n` entries, newest first. */
  async latest(n: number): Promise<readonly AuditEntry[]> {
    const rows = await this.options.redis.xrevrange(this.options.streamKey, "+", "-", "COUNT", n);
    return rows.flatMap(([, fields]) => {
      const at = fields.indexOf("entry");
      const raw = at >= 0 ? fields[at + 1] : undefined;
      return raw === undefined ? [] : [JSON.parse(raw) as AuditEntry];
    });
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    const f = this.file;
    if (!f) return;
    await new Promise<void>((resolve) => f.end(resolve));
  }
}
