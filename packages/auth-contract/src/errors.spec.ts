import { describe, expect, it } from 'vitest';
import { authErrorBody, detailsCode, formatErrorBody } from './errors';

describe('error body and codes', () => {
  it('builds the JSON body with a code first in details', () => {
    expect(authErrorBody(401, 'InvalidSecret', 'The secret does not match the key')).toEqual({
      message: 'Unauthenticated',
      status: 401,
      details: 'InvalidSecret The secret does not match the key',
    });
    expect(authErrorBody(403, 'MissingScope', 'echo:read', 'r-1')).toEqual({
      message: 'Forbidden',
      status: 403,
      details: 'MissingScope echo:read',
      request_id: 'r-1',
    });
  });

  it('formats the gateway bytes; they parse to the same object', () => {
    const body = authErrorBody(401, 'NoCredentials', 'One of identity or secret not passed');
    const text = formatErrorBody(body);
    expect(text).toBe(
      '{"message": "Unauthenticated", "status": 401, "details": "NoCredentials One of identity or secret not passed"}',
    );
    expect(JSON.parse(text)).toEqual(body);
    const withId = { ...body, details: 'x "quoted"\n', request_id: 'r"1' };
    expect(JSON.parse(formatErrorBody(withId))).toEqual(withId);
  });

  it('reads the code back out of details, only for contract codes', () => {
    expect(detailsCode('RevokedKey The key has been revoked')).toBe('RevokedKey');
    expect(detailsCode('MissingScope')).toBe('MissingScope');
    expect(detailsCode('Revoked key')).toBeUndefined();
    expect(detailsCode(['a'])).toBeUndefined();
    expect(detailsCode(null)).toBeUndefined();
  });
});
