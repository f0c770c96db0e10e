// Route scopes cannot be bypassed with path variants. `/api/v0/admin` needs `admin:read`; every
// spelling of it an attacker might try (case, slashes, dot segments, percent-encoding, `;`
// parameters, backslashes, fragments, absolute-form targets, very long paths) is sent byte for
// byte through the real front proxy with a key WITHOUT that scope, and must never reach the
// upstream: Envoy's own counter of requests sent to echo does not move, and the reply is a JSON
// 4xx. A key WITH the scope still gets through on the canonical paths.
import { connect, constants as h2 } from 'node:http2';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import {
  type EchoBody,
  type RootKey,
  basic,
  createRootKey,
  rawRequest,
  upstreamRequests,
} from './support';

/** Variants of `/api/v0/admin/...` (origin-form request targets, sent unchanged). */
const ADMIN_VARIANTS: readonly string[] = [
  // the plain route, with and without a trailing slash
  '/api/v0/admin',
  '/api/v0/admin/',
  '/api/v0/admin/x',
  '/api/v0/admin?x=1',
  // case
  '/api/v0/ADMIN/x',
  '/api/v0/Admin',
  '/api/v0/aDmIn/',
  '/API/v0/admin/x',
  '/Api/V0/Admin/x',
  '/api/V0/admin',
  // slashes
  '/api/v0//admin/x',
  '/api/v0///admin',
  '//api/v0/admin/x',
  '/api//v0/admin',
  // dot segments
  '/api/v0/./admin/x',
  '/api/v0/./admin',
  '/api/v0/x/../admin/x',
  '/api/v0/x/y/../../admin',
  '/api/v0/../v0/admin',
  '/api/v0/%2e/admin/x',
  '/api/v0/x/%2e%2e/admin/x',
  '/api/v0/x/%2E%2E/admin',
  '/api/v0/x/.%2e/admin',
  // percent-encoded letters, upper and lower case hex
  '/api/v0/%61dmin/x',
  '/api/v0/%61%64%6d%69%6e',
  '/api/v0/%61%64%6D%69%6E/x',
  '/api/v0/%41DMIN/x',
  '/%61pi/v0/admin',
  // double encoding
  '/api/v0/%2561dmin/x',
  '/api/v0/x/%252e%252e/admin',
  // encoded slashes and backslashes
  '/api/v0/x%2F..%2Fadmin/x',
  '/api/v0/x%2f..%2fadmin',
  '/api/v0%2Fadmin',
  '/api/v0/x%5C..%5Cadmin/x',
  '/api/v0/x%5c..%5cadmin',
  // raw backslashes
  '/api/v0\\admin/x',
  '/api/v0/x\\..\\admin/x',
  // ; path parameters (Tomcat/Spring strip them: /admin;x is /admin upstream)
  '/api/v0/admin;x',
  '/api/v0/admin;/x',
  '/api/v0/admin/..;/',
  '/api/v0/x/..;/admin/x',
  '/api/v0/echo/..;/admin',
  '/api/v0/admin%3Bx',
  '/api/v0/admin%3bx/y',
  // trailing dots and other suffixes
  '/api/v0/admin.',
  '/api/v0/admin./x',
  '/api/v0/admin%20',
  '/api/v0/administrator',
  // fragments (never sent by browsers, but a raw client can)
  '/api/v0/admin#x',
  '/api/v0/echo#/../admin',
  '/api/v0/x/..#/admin',
  // very long paths
  `/api/v0/admin/${'a'.repeat(16_000)}`,
  `/api/v0/${'x/'.repeat(2_000)}${'../'.repeat(2_000)}admin`,
  `/api/v0/admin/${'a'.repeat(40_000)}`,
];

describe('route scopes hold against path variants', () => {
  let stack: FrontProxyStack;
  /** keys:read + keys:write only. */
  let plain: RootKey;
  /** keys:read + keys:write + admin:read (granted in the database: no API grants admin). */
  let admin: RootKey;

  const echoSeen = () => upstreamRequests(stack.envoyAdminUrl);

  beforeAll(async () => {
    stack = await startFrontProxyStack();
    plain = await createRootKey(stack.authUrl);
    admin = await createRootKey(stack.authUrl);
    const db = new Client({ connectionString: stack.postgres.url });
    await db.connect();
    try {
      const r = await db.query(
        `UPDATE api_keys SET scopes = scopes || '[{"resource":"admin","action":"read"}]'::jsonb
          WHERE key_id = $1`,
        [admin.key_id],
      );
      expect(r.rowCount).toBe(1);
    } finally {
      await db.end();
    }
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('the canonical admin paths pass with admin:read and are refused without it', async () => {
    for (const path of ['/api/v0/admin', '/api/v0/admin/', '/api/v0/admin/x']) {
      const ok = await rawRequest(stack.ports.proxy, path, {
        authorization: basic(admin.key_id, admin.secret),
      });
      expect(ok.status, path).toBe(200);
      expect((JSON.parse(ok.body) as EchoBody).path).toBe(path);
      const no = await rawRequest(stack.ports.proxy, path, {
        authorization: basic(plain.key_id, plain.secret),
      });
      expect(no.status, path).toBe(403);
    }
    // The key without admin:read still works elsewhere.
    const echo = await rawRequest(stack.ports.proxy, '/api/v0/echo', {
      authorization: basic(plain.key_id, plain.secret),
    });
    expect(echo.status).toBe(200);
  });

  it.each(ADMIN_VARIANTS.map((p) => [p.length > 80 ? `${p.slice(0, 60)}… (${p.length})` : p, p]))(
    'without admin:read, %s never reaches the upstream',
    async (_label, target) => {
      const before = await echoSeen();
      const res = await rawRequest(stack.ports.proxy, target, {
        authorization: basic(plain.key_id, plain.secret),
      });
      expect(await echoSeen(), `upstream saw ${target}`).toBe(before);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['content-type']).toContain('application/json');
      const body = JSON.parse(res.body) as { status: number; details: string };
      expect(body.status).toBe(res.status);
    },
  );

  it('absolute-form request targets are routed like their path', async () => {
    const host = `127.0.0.1:${stack.ports.proxy}`;
    for (const target of [
      `http://${host}/api/v0/admin/x`,
      `http://${host}/api/v0/x/../admin`,
      `http://${host}/api/v0//ADMIN`,
      `http://evil.example/api/v0/%61dmin`,
    ]) {
      const before = await echoSeen();
      const res = await rawRequest(stack.ports.proxy, target, {
        authorization: basic(plain.key_id, plain.secret),
      });
      expect(await echoSeen(), `upstream saw ${target}`).toBe(before);
      expect([400, 403, 404]).toContain(res.status);
    }
  });

  it('HTTP/2 :path variants are normalised the same way', async () => {
    const session = connect(stack.proxyUrl);
    try {
      for (const path of [
        '/api/v0//admin/x',
        '/api/v0/%61dmin',
        '/api/v0/x/../ADMIN',
        '/api/v0/admin;x',
      ]) {
        const before = await echoSeen();
        const status = await new Promise<number>((resolve, reject) => {
          const s = session.request({
            [h2.HTTP2_HEADER_PATH]: path,
            authorization: basic(plain.key_id, plain.secret),
          });
          s.on('response', (h) => resolve(Number(h[h2.HTTP2_HEADER_STATUS])));
          s.on('error', reject);
          s.resume();
          s.end();
        });
        expect(await echoSeen(), `upstream saw ${path}`).toBe(before);
        expect([400, 403]).toContain(status);
      }
    } finally {
      session.close();
    }
  });

  it('with admin:read, non-canonical spellings reach the upstream as the canonical path', async () => {
    for (const [target, seen] of [
      ['/api/v0//admin/x', '/api/v0/admin/x'],
      ['/api/v0/./admin/x', '/api/v0/admin/x'],
      ['/api/v0/x/../admin/x', '/api/v0/admin/x'],
      ['/api/v0/%61dmin/x', '/api/v0/admin/x'],
    ] as const) {
      const res = await rawRequest(stack.ports.proxy, target, {
        authorization: basic(admin.key_id, admin.secret),
      });
      expect(res.status, target).toBe(200);
      expect((JSON.parse(res.body) as EchoBody).path).toBe(seen);
    }
  });
});
