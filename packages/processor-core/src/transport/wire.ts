// gRPC over HTTP/2, the parts the ext_proc transport needs: length-prefixed framing, the
// grpc-timeout header, status trailers. Spec: https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md
import { status as GrpcStatus } from '@grpc/grpc-js';

export { GrpcStatus };

/** grpc-js's default receive limit (`grpc.max_receive_message_length`). */
export const DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

export type FrameError = { code: GrpcStatus; details: string };

/**
 * Splits a gRPC request body into messages (1 byte compressed flag, 4 bytes big-endian length,
 * payload). A chunk holding exactly whole messages is not copied.
 */
export class FrameReader {
  /** Bytes of an incomplete message (header included), kept as received. */
  private chunks: Buffer[] = [];
  private have = 0;
  /** Size of the incomplete message with its 5-byte header; 0 while the header is incomplete. */
  private need = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * Appends a chunk; pushes complete payloads to `out` (views into the received bytes, no copy).
   * Returns an error for a bad frame.
   */
  push(chunk: Buffer, out: Uint8Array[]): FrameError | undefined {
    if (this.have === 0) return this.parse(chunk, out);
    this.chunks.push(chunk);
    this.have += chunk.length;
    if (this.need === 0 && this.have >= 5) {
      const err = this.header(Buffer.concat(this.chunks, 5), 0);
      if (err !== undefined) return err;
    }
    if (this.need === 0 || this.have < this.need) return undefined;
    const buf = Buffer.concat(this.chunks, this.have);
    this.chunks = [];
    this.have = 0;
    this.need = 0;
    return this.parse(buf, out);
  }

  /** Bytes of an incomplete message still waiting for more data. */
  get partial(): number {
    return this.have;
  }

  private header(buf: Buffer, off: number): FrameError | undefined {
    if (buf[off] !== 0) {
      return {
        code: GrpcStatus.UNIMPLEMENTED,
        details: 'compressed messages are not supported (grpc-encoding identity only)',
      };
    }
    const len = buf.readUInt32BE(off + 1);
    if (len > this.maxBytes) {
      return {
        code: GrpcStatus.RESOURCE_EXHAUSTED,
        details: `Received message larger than max (${len} vs. ${this.maxBytes})`,
      };
    }
    this.need = 5 + len;
    return undefined;
  }

  private parse(buf: Buffer, out: Uint8Array[]): FrameError | undefined {
    let off = 0;
    while (buf.length - off >= 5) {
      const err = this.header(buf, off);
      if (err !== undefined) return err;
      if (buf.length - off < this.need) break;
      // A plain Uint8Array view: cheaper than Buffer#subarray, and all protobuf decode needs.
      out.push(new Uint8Array(buf.buffer, buf.byteOffset + off + 5, this.need - 5));
      off += this.need;
      this.need = 0;
    }
    if (off < buf.length) {
      const rest = buf.subarray(off);
      this.chunks.push(rest);
      this.have = rest.length;
    }
    return undefined;
  }
}

/** One length-prefixed gRPC message (uncompressed). */
export function frame(payload: Uint8Array): Buffer {
  const n = payload.length;
  const out = Buffer.allocUnsafe(5 + n);
  out[0] = 0;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  out.set(payload, 5);
  return out;
}

const TIMEOUT_UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/**
 * `grpc-timeout` (1-8 digits and a unit H/M/S/m/u/n) in ms; undefined when absent; NaN when
 * malformed.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Array.isArray(value) ? value[0] : value;
  const m = v === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(v);
  if (m === null) return NaN;
  return Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]!;
}

/** grpc-message is percent-encoded: everything outside printable ASCII, and '%' itself. */
export function encodeGrpcMessage(s: string): string {
  if (!/[^\x20-\x24\x26-\x7e]/.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
