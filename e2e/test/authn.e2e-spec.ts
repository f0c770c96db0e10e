// Authentication at the edge, through the real front proxy: every bad input gets the right
// status and a JSON body, nothing crashes, and the upstream only ever sees verified identity.
import { freePort, startNodeService } from '@edge/testkit';
import { SignJWT, generateKeyPair, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appEntry, type FrontProxyStack, startFrontProxyStack } from '../src';
import { type EchoBody, type RootKey, basic, createRootKey, expectJsonError } from './support';

const JWT_TTL_SECONDS = 5;

describe('authn through the front proxy', () => {
  let stack: FrontProxyStack;
  let root: RootKey;

  const call = (headers: Record<string, string> = {}, path = '/api/v0/echo') =>
    fetch(`${stack.proxyUrl}${path}`, { headers });

  const createChildKey = async (body: object) => {
    const res = await fetch(`${stack.authUrl}/keys`, {
      method: 'POST',
      headers: {
        authorization: basic(root.key_id, root.secret),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as RootKey;
  };

  const token = async (authUrl: string, key: RootKey) => {
    const res = await fetch(`${authUrl}/token`, {
      method: 'POST',
      headers: { authorization: basic(key.key_id, key.secret) },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  beforeAll(async () => {
    stack = await startFrontProxyStack({ authEnv: { JWT_TTL_SECONDS: String(JWT_TTL_SECONDS) } });
    root = await createRootKey(stack.authUrl);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe('HTTP Basic', () => {
    it('no Authorization header: 401 NoCredentials', async () => {
      const res = await call();
      await expectJsonError(res, 401, 'NoCredentials');
      expect(res.headers.get('www-authenticate')).toBeTruthy();
    });

    it('malformed base64: 401 MalformedCredentials', async () => {
      await expectJsonError(
        await call({ authorization: 'Basic %%%not-base64%%%' }),
        401,
        'MalformedCredentials',
      );
    });

    it('no colon: 401 MalformedCredentials', async () => {
      const value = `Basic ${Buffer.from('just-a-key-id').toString('base64')}`;
      await expectJsonError(await call({ authorization: value }), 401, 'MalformedCredentials');
    });

    it('unknown key: 401 UnknownKey', async () => {
      await expectJsonError(
        await call({ authorization: basic('ak_doesnotexist', 'x'.repeat(43)) }),
        401,
        'UnknownKey',
      );
    });

    it('wrong secret: 401, and the secret is never echoed', async () => {
      const wrong = 'W'.repeat(43);
      const res = await call({ authorization: basic(root.key_id, wrong) });
      const body = await expectJsonError(res, 401, 'InvalidSecret');
      expect(JSON.stringify(body)).not.toContain(wrong);
    });

    it('an 8 KiB Authorization header: 401 JSON, not a crash', async () => {
      const huge = `Basic ${'A'.repeat(8 * 1024)}`;
      await expectJsonError(await call({ authorization: huge }), 401, 'MalformedCredentials');
      // The processor is still fine afterwards.
      expect((await call({ authorization: basic(root.key_id, root.secret) })).status).toBe(200);
    });

    it('client-sent identity headers are removed, never trusted', async () => {
      const res = await call({
        authorization: basic(root.key_id, root.secret),
        'x-tenant-id': 'evil-tenant',
        'X-User-Id': 'evil-user',
        'x-key-id': 'evil-key',
        'x-scopes': 'admin:*',
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as EchoBody;
      expect(body.headers['x-tenant-id']).toBe(root.tenant);
      expect(body.headers['x-user-id']).toBe(root.user_id);
      expect(body.headers['x-key-id']).toBe(root.key_id);
      expect(body.headers['x-scopes']).toBe('keys:read,keys:write');
    });

    it('without credentials, injected identity headers do not get through either', async () => {
      await expectJsonError(await call({ 'x-tenant-id': root.tenant }), 401, 'NoCredentials');
    });

    it('a revoked key stops working through the gateway within 1 second', async () => {
      const child = await createChildKey({ scopes: [{ resource: 'keys', action: 'read' }] });
      // Warm the processor's cache: the steady state makes no network call.
      for (let i = 0; i < 3; i++) {
        expect((await call({ authorization: basic(child.key_id, child.secret) })).status).toBe(200);
      }
      const revoke = await fetch(`${stack.authUrl}/keys/${child.key_id}/revoke`, {
        method: 'POST',
        headers: { authorization: basic(root.key_id, root.secret) },
      });
      expect(revoke.status).toBeLessThan(300);
      const revokedAt = Date.now();
      let status = 200;
      let res: Response | undefined;
      while (Date.now() - revokedAt < 1000) {
        res = await call({ authorization: basic(child.key_id, child.secret) });
        status = res.status;
        if (status !== 200) break;
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(401);
      expect(Date.now() - revokedAt).toBeLessThan(1000);
      await expectJsonError(res!, 401, 'RevokedKey');
    });

    it('an expired key: 401 ExpiredKey', async () => {
      const child = await createChildKey({
        scopes: [{ resource: 'keys', action: 'read' }],
        expires_in_seconds: 1,
      });
      expect((await call({ authorization: basic(child.key_id, child.secret) })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1300));
      await expectJsonError(
        await call({ authorization: basic(child.key_id, child.secret) }),
        401,
        'ExpiredKey',
      );
    });

    it('a route that requires a scope the key lacks: 403 MissingScope', async () => {
      const res = await call({ authorization: basic(root.key_id, root.secret) }, '/api/v0/admin/x');
      await expectJsonError(res, 403, 'MissingScope');
    });
  });

  describe('Bearer JWT', () => {
    it('a token from the auth service passes, identity comes from its claims', async () => {
      const jwt = await token(stack.authUrl, root);
      const res = await call({ authorization: `Bearer ${jwt}` });
      expect(res.status).toBe(200);
      const body = (await res.json()) as EchoBody;
      expect(body.headers['x-tenant-id']).toBe(root.tenant);
      expect(body.headers['x-user-id']).toBe(root.user_id);
      expect(body.headers.authorization).toBeUndefined();
    });

    it('alg: none: 401 InvalidToken', async () => {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const unsigned = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({
        iss: 'edge-auth',
        aud: 'edge',
        sub: root.user_id,
        tenant: root.tenant,
        iat: now,
        exp: now + 60,
      })}.`;
      await expectJsonError(
        await call({ authorization: `Bearer ${unsigned}` }),
        401,
        'InvalidToken',
      );
    });

    it('a bad signature (right kid, someone else’s key): 401 InvalidToken', async () => {
      const real = await token(stack.authUrl, root);
      const { kid, alg } = decodeProtectedHeader(real);
      const { privateKey } = await generateKeyPair(alg!);
      const forged = await new SignJWT({ tenant: root.tenant, scopes: ['keys:write'] })
        .setProtectedHeader({ alg: alg!, kid: kid! })
        .setIssuer('edge-auth')
        .setAudience('edge')
        .setSubject(root.user_id)
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey);
      await expectJsonError(await call({ authorization: `Bearer ${forged}` }), 401, 'InvalidToken');
    });

    it('a garbage token: 401 InvalidToken', async () => {
      await expectJsonError(await call({ authorization: 'Bearer not.a.jwt' }), 401, 'InvalidToken');
    });

    it('wrong audience (signed by the real key): 401 InvalidToken', async () => {
      // A second auth instance on the same database signs with the same keys but for another
      // audience: the signature is valid, only the audience is wrong.
      const port = await freePort();
      const other = await startNodeService({
        name: 'e2e-auth-other-aud',
        entry: appEntry('@edge/auth'),
        env: {
          ...stack.authEnv,
          PORT: String(port),
          GRPC_PORT: String(await freePort()),
          JWT_AUDIENCE: 'some-other-api',
        },
        readyUrl: `http://127.0.0.1:${port}/health`,
      });
      try {
        const jwt = await token(`http://127.0.0.1:${port}`, root);
        await expectJsonError(await call({ authorization: `Bearer ${jwt}` }), 401, 'InvalidToken');
      } finally {
        await other.stop();
      }
    });

    it('an expired token: 401 ExpiredToken', async () => {
      const jwt = await token(stack.authUrl, root);
      expect((await call({ authorization: `Bearer ${jwt}` })).status).toBe(200);
      // TTL plus the processor's clock tolerance.
      await new Promise((r) => setTimeout(r, (JWT_TTL_SECONDS + 6) * 1000));
      await expectJsonError(await call({ authorization: `Bearer ${jwt}` }), 401, 'ExpiredToken');
    }, 30_000);
  });

  describe('backends down: fail closed', () => {
    it('auth service down: 503 JSON for an uncached key, never a pass-through', async () => {
      const child = await createChildKey({ scopes: [{ resource: 'keys', action: 'read' }] });
      await stack.stopPart('auth');
      try {
        const res = await call({ authorization: basic(child.key_id, child.secret) });
        await expectJsonError(res, 503, 'AuthBackendUnavailable');
      } finally {
        await stack.startPart('auth');
      }
      // Back up: the same key works again.
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        const res = await call({ authorization: basic(child.key_id, child.secret) });
        status = res.status;
        await res.body?.cancel();
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    });

    it('authn processor down: Envoy fails closed with a JSON 5xx, never reaches echo', async () => {
      await stack.stopPart('authn-processor');
      try {
        const res = await call({ authorization: basic(root.key_id, root.secret) });
        expect(res.status).toBeGreaterThanOrEqual(500);
        expect(res.headers.get('content-type')).toContain('application/json');
        const body = (await res.json()) as { details?: string; command?: string };
        expect(body.command).toBeUndefined();
        // A public code, never the ext_proc gRPC error or the processor's address.
        expect(body.details).toMatch(/^(InternalError|ServiceUnavailable|ServiceError) /);
        expect(body.details).not.toMatch(/grpc|ext_proc|127\.0\.0\.1|connect/i);
      } finally {
        await stack.startPart('authn-processor');
      }
      expect((await call({ authorization: basic(root.key_id, root.secret) })).status).toBe(200);
    });
  });
});
