import { describe, expect, it } from 'vitest';
import { fromRow } from './key-events.service';

describe('key event rows', () => {
  it('map to events with a numeric sequence', () => {
    const at = new Date('2030-01-01T00:00:00Z');
    expect(fromRow({ seq: '42', key_id: 'ak_1', type: 'REVOKED', at })).toEqual({
      sequence: 42,
      type: 'REVOKED',
      keyId: 'ak_1',
      at,
    });
  });
});
