import { authV1 } from '@edge/protos';
import { type KeyEvent } from '../key-events/key-events.service';
import { type VerificationResult } from '../keys/key-verification';
import { type Scope } from '../keys/scopes';

// Nest's gRPC transport (proto-loader, camelCase fields, enums as numbers) speaks plain objects;
// the enum values come from the generated code so the numbers cannot drift from the proto.
const R = authV1.VerifyKeyResult;
const E = authV1.KeyEventType;

export interface TimestampMessage {
  seconds: number;
  nanos: number;
}

export interface VerifyKeyReply {
  result: number;
  principal?: {
    tenant: string;
    userId: string;
    keyId: string;
    scopes: Scope[];
    expiresAt?: TimestampMessage;
  };
  cacheTtlSeconds: number;
}

export interface KeyEventMessage {
  type: number;
  keyId: string;
  at: TimestampMessage;
}

export function toTimestamp(d: Date): TimestampMessage {
  const ms = d.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

export function toResultEnum(r: VerificationResult): number {
  switch (r) {
    case 'ok':
      return R.VERIFY_KEY_RESULT_OK;
    case 'unknown_key':
      return R.VERIFY_KEY_RESULT_UNKNOWN_KEY;
    case 'wrong_secret':
      return R.VERIFY_KEY_RESULT_WRONG_SECRET;
    case 'revoked':
      return R.VERIFY_KEY_RESULT_REVOKED;
    case 'expired':
      return R.VERIFY_KEY_RESULT_EXPIRED;
  }
}

export function toEventMessage(e: KeyEvent): KeyEventMessage {
  return {
    type: e.type === 'REVOKED' ? E.KEY_EVENT_TYPE_REVOKED : E.KEY_EVENT_TYPE_ROTATED,
    keyId: e.keyId,
    at: toTimestamp(e.at),
  };
}

export function subscribedMessage(now: Date): KeyEventMessage {
  return { type: E.KEY_EVENT_TYPE_SUBSCRIBED, keyId: '', at: toTimestamp(now) };
}
