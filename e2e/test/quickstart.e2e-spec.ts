// The README's quickstart transcript, through the real front proxy, as a user runs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import { type EchoBody, type RootKey, createRootKey } from './support';

describe('quickstart: create-root-key, then call echo through Envoy', () => {
  let stack: FrontProxyStack;
  let root: RootKey;

  beforeAll(async () => {
    stack = await startFrontProxyStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('$ curl -s localhost:7000/create-root-key', async () => {
    root = await createRootKey(stack.authUrl);
    expect(Object.keys(root).sort()).toEqual(
      [
        'tenant',
        'user_id',
        'key_id',
        'created_at',
        'updated_at',
        'revoked_at',
        'status',
        'scopes',
        'secret',
      ].sort(),
    );
    expect(root.status).toBe('active');
    expect(root.revoked_at).toBeNull();
    expect(root.scopes).toEqual([
      { resource: 'keys', action: 'read' },
      { resource: 'keys', action: 'write' },
    ]);
    // At least 256 bits of secret.
    expect(Buffer.from(root.secret, 'base64url').length).toBeGreaterThanOrEqual(32);
  });

  it('$ curl -s localhost:8080/api/v0/echo  (no credentials: 401 JSON)', async () => {
    const res = await fetch(`${stack.proxyUrl}/api/v0/echo`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/Basic/);
    expect(await res.json()).toEqual({
      message: 'Unauthenticated',
      status: 401,
      details: 'NoCredentials One of identity or secret not passed',
    });
  });

  it('$ curl -s localhost:8080/api/v0/echo -u KEY_ID:SECRET', async () => {
    const auth = Buffer.from(`${root.key_id}:${root.secret}`).toString('base64');
    const res = await fetch(`${stack.proxyUrl}/api/v0/echo`, {
      headers: { authorization: `Basic ${auth}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as EchoBody;
    expect(body).toMatchObject({ command: 'GET', path: '/api/v0/echo', message: 'Hello' });
    // The upstream sees who called, never the credentials.
    expect(body.headers['x-tenant-id']).toBe(root.tenant);
    expect(body.headers['x-user-id']).toBe(root.user_id);
    expect(body.headers['x-key-id']).toBe(root.key_id);
    expect(body.headers['x-scopes']).toBe('keys:read,keys:write');
    expect(body.headers.authorization).toBeUndefined();
  });
});
