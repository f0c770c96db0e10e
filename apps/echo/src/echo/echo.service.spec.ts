import { describe, expect, it } from 'vitest';
import { EchoService } from './echo.service';

describe('EchoService', () => {
  const svc = new EchoService();

  it('echoes method, path with query, headers (repeated kept) and body', () => {
    expect(
      svc.echo({
        method: 'POST',
        url: '/api/v0/echo?x=1',
        headers: { 'x-a': ['1', '2'], host: 'h', 'x-undefined': undefined },
        body: '{"a":1}',
      }),
    ).toEqual({
      command: 'POST',
      path: '/api/v0/echo?x=1',
      headers: { 'x-a': ['1', '2'], host: 'h' },
      body: '{"a":1}',
      message: 'Hello',
    });
  });

  it('renders a missing body as an empty string and buffers as utf-8', () => {
    expect(svc.echo({ method: 'GET', url: '/', headers: {}, body: undefined }).body).toBe('');
    expect(svc.echo({ method: 'PUT', url: '/', headers: {}, body: Buffer.from('hé') }).body).toBe(
      'hé',
    );
  });
});
