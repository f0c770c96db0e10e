import { describe, expect, it } from 'vitest';
import { parseKeyEvent, serializeKeyEvent } from './key-events.service';

describe('key event payloads', () => {
  it('round-trip', () => {
    const e = { type: 'REVOKED' as const, keyId: 'ak_1', at: new Date('2030-01-01T00:00:00Z') };
    expect(parseKeyEvent(serializeKeyEvent(e))).toEqual(e);
  });

  it('ignore foreign or malformed payloads', () => {
    expect(parseKeyEvent(undefined)).toBeUndefined();
    expect(parseKeyEvent('not json')).toBeUndefined();
    expect(parseKeyEvent('{"type":"DELETED","key_id":"x"}')).toBeUndefined();
    expect(parseKeyEvent('{"type":"REVOKED"}')).toBeUndefined();
  });
});
