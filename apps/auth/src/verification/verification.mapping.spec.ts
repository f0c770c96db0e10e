import { authV1 } from '@edge/protos';
import { describe, expect, it } from 'vitest';
import {
  subscribedMessage,
  toEventMessage,
  toResultEnum,
  toTimestamp,
} from './verification.mapping';

describe('gRPC mapping', () => {
  it('maps every verification result to the proto enum', () => {
    expect(toResultEnum('ok')).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_OK);
    expect(toResultEnum('unknown_key')).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_UNKNOWN_KEY);
    expect(toResultEnum('wrong_secret')).toBe(
      authV1.VerifyKeyResult.VERIFY_KEY_RESULT_WRONG_SECRET,
    );
    expect(toResultEnum('revoked')).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_REVOKED);
    expect(toResultEnum('expired')).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_EXPIRED);
  });

  it('maps timestamps and events', () => {
    const at = new Date('2030-01-01T00:00:01.250Z');
    expect(toTimestamp(at)).toEqual({ seconds: at.getTime() / 1000 - 0.25, nanos: 250_000_000 });
    expect(toEventMessage({ type: 'REVOKED', keyId: 'ak_1', at })).toEqual({
      type: authV1.KeyEventType.KEY_EVENT_TYPE_REVOKED,
      keyId: 'ak_1',
      at: toTimestamp(at),
    });
    expect(subscribedMessage(at).type).toBe(authV1.KeyEventType.KEY_EVENT_TYPE_SUBSCRIBED);
  });
});
