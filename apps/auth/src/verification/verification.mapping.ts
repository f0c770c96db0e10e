import { authV1 } from '@edge/auth-contract';
import { type KeyEvent } from '../key-events/key-events.service';
import { type VerificationResult } from '../keys/key-verification';

// Replies are the generated (ts-proto) message types; the generated code encodes them, so the
// server cannot send a shape the processor's generated decoder would read differently.
const R = authV1.VerifyKeyResult;
const E = authV1.KeyEventType;

export function toResultEnum(r: VerificationResult): authV1.VerifyKeyResult {
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

/** A refusal: no principal, nothing to cache. */
export function refusal(r: VerificationResult): authV1.VerifyKeyResponse {
  return { result: toResultEnum(r), principal: undefined, cacheTtlSeconds: 0 };
}

export function toEventMessage(e: KeyEvent): authV1.WatchKeyEventsResponse {
  return {
    type: e.type === 'REVOKED' ? E.KEY_EVENT_TYPE_REVOKED : E.KEY_EVENT_TYPE_ROTATED,
    keyId: e.keyId,
    at: e.at,
    sequence: e.sequence,
  };
}

/** `sequence`: everything up to it was delivered on this stream. */
export function subscribedMessage(now: Date, sequence: number): authV1.WatchKeyEventsResponse {
  return { type: E.KEY_EVENT_TYPE_SUBSCRIBED, keyId: '', at: now, sequence };
}
