import { describe, expect, it } from 'vitest';
import { MAX_KEY_LENGTH, parseIdempotencyKey } from './idempotency-key';

describe('parseIdempotencyKey (RFC 8941 sf-string)', () => {
  it('accepts a quoted string, with escapes and ignored parameters', () => {
    expect(parseIdempotencyKey(['"8e03978e-40d5-43e8-bc93-6894a57f9324"'])).toEqual({
      ok: true,
      key: '8e03978e-40d5-43e8-bc93-6894a57f9324',
    });
    expect(parseIdempotencyKey(['"a\\"b\\\\c"'])).toEqual({ ok: true, key: 'a"b\\c' });
    expect(parseIdempotencyKey(['"k";v=1'])).toEqual({ ok: true, key: 'k' });
  });

  it('accepts exactly 255 characters and refuses 256', () => {
    expect(parseIdempotencyKey([`"${'a'.repeat(MAX_KEY_LENGTH)}"`]).ok).toBe(true);
    expect(parseIdempotencyKey([`"${'a'.repeat(MAX_KEY_LENGTH + 1)}"`])).toEqual({
      ok: false,
      reason: 'too-long',
    });
    expect(parseIdempotencyKey([`"${'a'.repeat(100_000)}"`])).toEqual({
      ok: false,
      reason: 'too-long',
    });
  });

  it('refuses tokens, numbers, byte sequences and empty strings', () => {
    expect(parseIdempotencyKey(['abc'])).toEqual({ ok: false, reason: 'not-a-string' });
    expect(parseIdempotencyKey(['42'])).toEqual({ ok: false, reason: 'not-a-string' });
    expect(parseIdempotencyKey([':aGVsbG8=:'])).toEqual({ ok: false, reason: 'not-a-string' });
    expect(parseIdempotencyKey(['""'])).toEqual({ ok: false, reason: 'empty' });
  });

  it('refuses malformed input without throwing', () => {
    for (const bad of ['"unterminated', '"a" "b"', '"tab\there"', '"é"', '', '"a"\u0000', ',']) {
      const r = parseIdempotencyKey([bad]);
      expect(r.ok).toBe(false);
    }
  });

  it('refuses a repeated header', () => {
    expect(parseIdempotencyKey(['"a"', '"a"'])).toEqual({ ok: false, reason: 'multiple' });
  });
});
