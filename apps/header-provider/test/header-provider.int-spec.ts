// The header provider against the real auth service (built app, real Postgres): token exchange,
// JWKS verification, renewal before expiry, renewal failures, and hostile HTTP input.
import {
  freePort,
  infraBackend,
  type PostgresInfo,
  startNodeService,
  type Started,
} from '@edge/testkit';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeaderProviderApp } from '../src/app';
import { loadHeaderProviderConfig } from '../src/config/header-provider.config';

const authEntry = join(dirname(require.resolve('@edge/auth/package.json')), 'dist', 'main.js');

let pg: Started<PostgresInfo>;
let auth: Started<unknown> | undefined;
let authUrl: string;
let authEnv: Record<string, string>;

async function startAuth(): Promise<void> {
  auth = await startNodeService({
    name: 'hp-auth',
    entry: authEntry,
    env: authEnv,
    readyUrl: `${authUrl}/health`,
  });
}

beforeAll(async () => {
  pg = await infraBackend().postgres({ name: 'header-provider-test' });
  const port = await freePort();
  authUrl = `http://127.0.0.1:${port}`;
  authEnv = {
    PORT: String(port),
    GRPC_PORT: String(await freePort()),
    DATABASE_URL: pg.info.url,
    LOG_LEVEL: 'warn',
    JWT_TTL_SECONDS: '6',
    // The test's explicit opt-in to the development secrets (loopback only).
    AUTH_DEV_MODE: '1',
  };
  await startAuth();
});
afterAll(async () => {
  await auth?.stop();
  await pg?.stop();
});

async function rootKey(): Promise<{ key_id: string; secret: string }> {
  const res = await fetch(`${authUrl}/create-root-key`);
  expect(res.status).toBe(200);
  return (await res.json()) as { key_id: string; secret: string };
}

async function startProvider(
  env: Record<string, string>,
): Promise<{ app: NestFastifyApplication; url: string }> {
  const port = await freePort();
  const config = loadHeaderProviderConfig({
    PORT: String(port),
    AUTH_URL: authUrl,
    TOKEN_MIN_REMAINING_SECONDS: '3',
    RENEW_BACKOFF_INITIAL_MS: '200',
    RENEW_BACKOFF_MAX_MS: '1000',
    ...env,
  });
  const app = await createHeaderProviderApp(config, pino({ level: 'silent' }));
  await app.listen(port, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${port}` };
}

async function until<T>(fn: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function headers(url: string): Promise<Record<string, string> | undefined> {
  const res = await fetch(`${url}/headers`);
  if (res.status !== 200) return undefined;
  return (await res.json()) as Record<string, string>;
}

async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? 0 : Number(found.split(' ').at(-1));
}

describe('header provider with the real auth service', () => {
  it('serves the configured headers and a workload JWT that verifies against the JWKS, renewed before expiry', async () => {
    const key = await rootKey();
    const { app, url } = await startProvider({
      WORKLOAD_KEY_ID: key.key_id,
      WORKLOAD_KEY_SECRET: key.secret,
      STATIC_HEADERS: '{"x-mesh":"test","x-bad":"a\\u0000b"}',
    });
    try {
      const first = await until(() => headers(url), 'first token');
      expect(Object.keys(first).sort()).toEqual(['x-mesh', 'x-workload-token']);
      const jwks = createRemoteJWKSet(new URL(`${authUrl}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(first['x-workload-token']!, jwks, {
        issuer: 'edge-auth',
        audience: 'edge',
      });
      expect(payload.key_id).toBe(key.key_id);
      // 6 s tokens renewed when 3 s remain: a new token before the first expires.
      const second = await until(async () => {
        const h = await headers(url);
        return h && h['x-workload-token'] !== first['x-workload-token'] ? h : undefined;
      }, 'renewed token');
      expect(decodeJwt(second['x-workload-token']!).exp!).toBeGreaterThan(
        decodeJwt(first['x-workload-token']!).exp!,
      );
      expect(decodeJwt(first['x-workload-token']!).exp! * 1000).toBeGreaterThan(Date.now());
      expect(await metric(url, 'header_provider_token_renewals_total')).toBeGreaterThanOrEqual(2);
      expect(
        await metric(url, 'header_provider_requests_total{status="200"}'),
      ).toBeGreaterThanOrEqual(2);
      expect(await metric(url, 'header_provider_invalid_headers_total')).toBe(1);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('a revoked workload key: renewals fail (counted by reason), the token is served until it expires, then a JSON 503', async () => {
    const key = await rootKey();
    const { app, url } = await startProvider({
      WORKLOAD_KEY_ID: key.key_id,
      WORKLOAD_KEY_SECRET: key.secret,
    });
    try {
      const first = await until(() => headers(url), 'first token');
      const exp = decodeJwt(first['x-workload-token']!).exp! * 1000;
      const basic = Buffer.from(`${key.key_id}:${key.secret}`).toString('base64');
      const revoke = await fetch(`${authUrl}/keys/${key.key_id}/revoke`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}` },
      });
      expect(revoke.status).toBeLessThan(300);
      const res = await until(async () => {
        const r = await fetch(`${url}/headers`);
        return r.status === 503 ? r : undefined;
      }, 'a 503 after expiry');
      expect(Date.now()).toBeGreaterThanOrEqual(exp - 100);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await res.json()).toMatchObject({ status: 503, message: 'Service Unavailable' });
      expect(
        await metric(url, 'header_provider_token_renewal_failures_total{reason="status 401'),
      ).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${url}/health`)).status).toBe(503);
    } finally {
      await app.close();
    }
  });

  it('the auth service down at start: 503 JSON, then headers once it is back', async () => {
    const key = await rootKey();
    await auth!.stop();
    const { app, url } = await startProvider({
      WORKLOAD_KEY_ID: key.key_id,
      WORKLOAD_KEY_SECRET: key.secret,
    });
    try {
      const res = await fetch(`${url}/headers`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { details: string }).details).toMatch(/^TokenUnavailable /);
      await until(
        () =>
          metric(
            url,
            'header_provider_token_renewal_failures_total{reason="auth service unreachable"}',
          ).then((n) => (n > 0 ? n : undefined)),
        'a counted failure',
      );
      await startAuth();
      expect(
        (await until(() => headers(url), 'token after auth is back'))['x-workload-token'],
      ).toBeTruthy();
    } finally {
      await app.close();
    }
  });

  it('a wrong secret is never logged or served; hostile paths and methods get JSON errors', async () => {
    const key = await rootKey();
    const { app, url } = await startProvider({
      WORKLOAD_KEY_ID: key.key_id,
      WORKLOAD_KEY_SECRET: 'wrong-secret',
    });
    try {
      await until(
        () =>
          metric(
            url,
            'header_provider_token_renewal_failures_total{reason="status 401 InvalidSecret"}',
          ).then((n) => (n > 0 ? n : undefined)),
        'InvalidSecret counted',
      );
      expect((await fetch(`${url}/headers`)).status).toBe(503);
      for (const [method, path] of [
        ['GET', '/headers/../../etc/passwd'],
        ['GET', `/${'x'.repeat(8000)}`],
        ['POST', '/headers'],
        ['DELETE', '/headers'],
      ] as const) {
        const res = await fetch(`${url}${path}`, {
          method,
          body: method === 'POST' ? 'x'.repeat(5000) : undefined,
        });
        expect(res.status, `${method} ${path.slice(0, 20)}`).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.headers.get('content-type')).toContain('application/json');
        const body = (await res.json()) as { status: number; details: string };
        expect(body.status).toBe(res.status);
      }
    } finally {
      await app.close();
    }
  });
});
