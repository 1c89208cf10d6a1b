/**
 * The SSH wire encoding (RFC 4251 §5) used inside SSHSIG blobs: uint32 lengths, byte strings
 * and mpints. The reader never reads past the end of its buffer: malformed input throws a
 * {@link WireError} instead.
 */
import { CommodoreError } from "../../../lib/errors.ts";

/** A blob that is not valid SSH wire encoding. */
export class WireError extends CommodoreError {
  constructor(message: string) {
    super("E_FLEET_WIRE", message, { hint: "the signature blob is truncated or not SSH-encoded" });
  }
}

/** Encodes `data` as an SSH string (uint32 length prefix). */
export function sshString(data: Uint8Array | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

/** Encodes an unsigned big-endian integer as an SSH mpint (minimal, sign bit clear). */
export function sshMpint(unsigned: Uint8Array): Buffer {
  let start = 0;
  while (start < unsigned.length && unsigned[start] === 0) start++;
  const trimmed = Buffer.from(unsigned.subarray(start));
  const first = trimmed[0];
  const body =
    first !== undefined && first >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return sshString(body);
}

/** Sequential reader over an SSH-encoded buffer. */
export class SshReader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  /** Reads `n` raw bytes. */
  bytes(n: number): Buffer {
    if (n < 0 || this.offset + n > this.buf.length) {
      throw new WireError(
        `needed ${n} bytes at offset ${this.offset}, blob has ${this.buf.length}`,
      );
    }
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Reads a uint32. */
  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  /** Reads an SSH string as bytes. */
  string(): Buffer {
    return this.bytes(this.uint32());
  }

  /** Reads an SSH string as UTF-8 text. */
  text(): string {
    return this.string().toString("utf8");
  }

  /** Reads an mpint as unsigned big-endian bytes without leading zeros. */
  mpint(): Buffer {
    const raw = this.string();
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }

  /** True when every byte has been consumed. */
  done(): boolean {
    return this.offset === this.buf.length;
  }
}
