import { type protobufAny } from '@edge/protos';

/** What ts-proto's generated message constants offer (encode/decode), enough to pack an Any. */
export interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Packs a message into a google.protobuf.Any of the given full type name. */
export function pack<T>(typeName: string, codec: MessageCodec<T>, message: T): protobufAny.Any {
  return {
    typeUrl: `${TYPE_URL_PREFIX}${typeName}`,
    value: Buffer.from(codec.encode(message).finish()),
  };
}

/** The message in `any` when it is of `typeName`, otherwise undefined. Throws on bad bytes. */
export function unpack<T>(
  any: protobufAny.Any | undefined,
  typeName: string,
  codec: MessageCodec<T>,
): T | undefined {
  if (any?.typeUrl !== `${TYPE_URL_PREFIX}${typeName}`) return undefined;
  return codec.decode(any.value);
}
