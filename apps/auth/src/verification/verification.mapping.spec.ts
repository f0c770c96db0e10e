import { authV1 } from '@edge/auth-contract';
import { describe, expect, it } from 'vitest';
import { refusal, subscribedMessage, toEventMessage, toResultEnum } from './verification.mapping';

describe('gRPC mapping', () => {
  it('maps every verification result to the proto enum', () => {
    expect(toResultEnum('ok')).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_OK);
    expect(toResultEnum('unknown_key')).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_UNKNOWN_KEY);
    expect(toResultEnum('wrong_secret')).toBe(
      authV1.VerifyKeyResult.VERIFY_KEY_RESULT_WRONG_SECRET,
    );
    expect(toResultEnum('revoked')).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_REVOKED);
    expect(toResultEnum('expired')).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_EXPIRED);
    expect(refusal('revoked')).toEqual({
      result: authV1.VerifyKeyResult.VERIFY_KEY_RESULT_REVOKED,
      principal: undefined,
      cacheTtlSeconds: 0,
    });
  });

  it('maps events; the generated codec round-trips them', () => {
    const at = new Date('2030-01-01T00:00:01.250Z');
    const msg = toEventMessage({ sequence: 7, type: 'REVOKED', keyId: 'ak_1', at });
    expect(msg).toEqual({
      type: authV1.KeyEventType.KEY_EVENT_TYPE_REVOKED,
      keyId: 'ak_1',
      at,
      sequence: 7,
    });
    const wire = authV1.WatchKeyEventsResponse.encode(msg).finish();
    expect(authV1.WatchKeyEventsResponse.decode(wire)).toEqual(msg);
    expect(subscribedMessage(at, 3)).toMatchObject({
      type: authV1.KeyEventType.KEY_EVENT_TYPE_SUBSCRIBED,
      sequence: 3,
    });
  });
});
