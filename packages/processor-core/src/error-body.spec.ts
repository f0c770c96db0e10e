import { describe, expect, it } from 'vitest';
import { errorBody, errorDetails, statusMessage } from './error-body';

describe('error body', () => {
  it('has message, status, details and request_id only when known', () => {
    expect(errorBody(401, 'NoCredentials x')).toEqual({
      message: 'Unauthenticated',
      status: 401,
      details: 'NoCredentials x',
    });
    expect(errorBody(503, null, 'r1')).toEqual({
      message: 'Service Unavailable',
      status: 503,
      details: null,
      request_id: 'r1',
    });
    expect(errorBody(500, null, '')).not.toHaveProperty('request_id');
  });

  it('names unknown statuses by class', () => {
    expect(statusMessage(418)).toBe('Client Error');
    expect(statusMessage(599)).toBe('Server Error');
    expect(errorDetails('Code', '')).toBe('Code');
    expect(errorDetails('Code', 'A sentence')).toBe('Code A sentence');
  });
});
