import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** What a generated (ts-proto) message type offers for encoding. */
export interface Encodable<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

/**
 * An encode function for one message type that reuses one BinaryWriter across calls, for hot
 * paths (an ext_proc answer, an audit record per request): a new BinaryWriter per message, what
 * `encode(m).finish()` does, costs more than encoding a small message itself (`bench:encode`).
 * Encoding is synchronous, so one writer per function is safe. Each result is a copy of its
 * own (`finish()` slices). The writer is replaced after an encode that throws (its state is then
 * undefined) and after one larger than `keepBytes` (a rare large message must not pin its
 * buffer).
 */
export function reusingEncoder<T>(
  codec: Encodable<T>,
  keepBytes = 64 * 1024,
): (message: T) => Uint8Array {
  let writer = new BinaryWriter();
  return (message) => {
    let out: Uint8Array;
    try {
      out = codec.encode(message, writer).finish();
    } catch (err) {
      writer = new BinaryWriter();
      throw err;
    }
    if (out.length > keepBytes) writer = new BinaryWriter();
    return out;
  };
}
