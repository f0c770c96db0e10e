import { describe, expect, it } from 'vitest';
import { protobufStruct } from './index';
import { reusingEncoder } from './reusing-encoder';

// google.protobuf.Struct (ts-proto wraps plain objects): nested messages, strings of any size.
const encode = reusingEncoder(protobufStruct.Struct, 1024);
const decode = (b: Uint8Array) => protobufStruct.Struct.unwrap(protobufStruct.Struct.decode(b));
const msg = (v: unknown) => protobufStruct.Struct.wrap({ ns: { v } });

describe('reusingEncoder', () => {
  it('encodes like encode().finish(), and each result keeps its bytes after later encodes', () => {
    const first = encode(msg('first-value'));
    expect(Buffer.from(first)).toEqual(
      Buffer.from(protobufStruct.Struct.encode(msg('first-value')).finish()),
    );
    const big = encode(msg('x'.repeat(5_000))); // past keepBytes: the writer is replaced
    const third = encode(msg('3rd'));
    expect(decode(first)).toEqual({ ns: { v: 'first-value' } });
    expect(decode(big)).toEqual({ ns: { v: 'x'.repeat(5_000) } });
    expect(decode(third)).toEqual({ ns: { v: '3rd' } });
  });

  it('encodes correctly after an encode that threw midway', () => {
    // Struct.wrap accepts it; encoding the BigInt value throws after the key was written.
    expect(() => encode(msg(1n))).toThrow();
    expect(decode(encode(msg('after')))).toEqual({ ns: { v: 'after' } });
  });
});
