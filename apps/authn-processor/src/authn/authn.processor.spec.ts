import { createHarness, type Harness } from '@edge/processor-core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock';
import { JwksCache } from '../jwt/jwks.cache';
import { JwtVerifier } from '../jwt/jwt-verifier';
import { KeyCache } from '../key-verification/key-cache';
import { KeyEventsWatcher } from '../key-verification/key-events.watcher';
import { KeyVerifier } from '../key-verification/key-verifier';
import { type Logger } from '../logging/logger';
import { AuthBackendUnavailable } from './authn-error';
import {
  FakeKeyBackend,
  loadedRevokedKeys,
  principal,
  sc,
  settle,
} from '../testing/fake-key-backend';
import {
  AUDIENCE,
  FakeJwksFetcher,
  ISSUER,
  NOW_S,
  sign,
  type TestKey,
  testKey,
  unsignedToken,
} from '../testing/jwt-fixtures';
import { Authenticator } from './authenticator';
import { AuthnProcessor } from './authn.processor';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const REQ = {
  ':method': 'GET',
  ':path': '/api/v0/echo?x=1',
  ':authority': 'gw',
  'x-request-id': 'rid-1',
};
/** The matched route's metadata, as Envoy sends it (the xds.route_metadata attribute). */
const route = (ns: Record<string, unknown>) => ({
  attributes: { 'xds.route_metadata': { filter_metadata: { 'edge.authn.route': ns } } },
});
const scopes = (s: string[]) => route({ required_scopes: s });

let key: TestKey;
beforeAll(async () => {
  key = await testKey('k1');
});

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
}

async function setup() {
  const clock = new ManualClock(NOW_S * 1000);
  const lines: LogLine[] = [];
  const log =
    (level: string) =>
    (fields: Record<string, unknown>): void => {
      lines.push({ level, fields });
    };
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  const backend = new FakeKeyBackend();
  backend.answer = (keyId, secret) => {
    if (keyId === 'unknown') return { kind: 'unknown-key' };
    if (keyId === 'revoked') return { kind: 'revoked' };
    if (keyId === 'expired') return { kind: 'expired' };
    if (keyId === 'down')
      return new AuthBackendUnavailable('Auth service did not answer (UNAVAILABLE)');
    return secret === 'good'
      ? {
          kind: 'ok',
          principal: principal({ keyId, scopes: sc('echo:read', 'keys:write') }),
          cacheTtlMs: 60_000,
        }
      : { kind: 'wrong-secret' };
  };
  const cache = new KeyCache(clock, { maxEntries: 100, maxTtlMs: 60_000 });
  const revoked = loadedRevokedKeys(clock);
  const watcher = new KeyEventsWatcher(
    backend,
    cache,
    logger,
    { initialBackoffMs: 10, maxBackoffMs: 10 },
    revoked,
  );
  watcher.start();
  await settle(); // the first list of revoked keys, then the watch
  backend.emit({ type: 'subscribed' });
  const keys = new KeyVerifier(backend, cache, watcher, clock);
  const fetcher = new FakeJwksFetcher([key.jwk]);
  const jwks = new JwksCache(fetcher, clock, logger, { maxAgeMs: 600_000, cooldownMs: 30_000 });
  const tokens = new JwtVerifier(jwks, clock, {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['ES256'],
    clockToleranceSeconds: 5,
    maxTtlSeconds: 3_600,
  });
  const authenticator = new Authenticator(
    keys,
    tokens,
    { maxAuthorizationBytes: 4096, realm: 'edge' },
    revoked,
  );
  const processor = new AuthnProcessor(authenticator, logger);
  const harness = (): Harness => createHarness(processor, { errorPolicy: processor.errorPolicy });
  return { backend, fetcher, harness, lines, processor, clock };
}

describe('AuthnProcessor', () => {
  it('declares the fastest mode: request headers only', async () => {
    expect((await setup()).processor.mode).toEqual({
      requestHeaders: 'send',
      responseHeaders: 'skip',
      requestBody: 'none',
      responseBody: 'none',
      requestTrailers: 'skip',
      responseTrailers: 'skip',
    });
  });

  it('no credentials -> 401 with the quickstart body and both challenges', async () => {
    const { harness, lines } = await setup();
    const r = await harness().requestHeaders(REQ);
    expect(r.immediate).toMatchObject({ status: 401 });
    expect(r.immediate!.body).toBe(
      '{"message": "Unauthenticated", "status": 401, "details": "NoCredentials One of identity or secret not passed"}',
    );
    expect(r.immediate!.headers['content-type']).toBe('application/json');
    expect(r.immediate!.headers['www-authenticate']).toBe(
      'Basic realm="edge", Bearer realm="edge"',
    );
    const line = lines.find((l) => l.fields.event === 'authn');
    expect(line?.fields).toMatchObject({
      request_id: 'rid-1',
      outcome: 'NoCredentials',
      path: '/api/v0/echo',
    });
  });

  it('valid Basic key: strips Authorization, replaces client identity headers, sets the verified ones', async () => {
    const { harness } = await setup();
    const r = await harness().requestHeaders({
      ...REQ,
      authorization: basic('k1', 'good'),
      'X-Tenant-Id': 'evil-tenant',
      'x-user-id': ['a', 'b'],
      'x-scopes': '*:*',
    });
    expect(r.immediate).toBeUndefined();
    expect(r.headers.remove).toEqual(expect.arrayContaining(['authorization']));
    // x-key-id had no client value but is removed anyway; the others are overwritten.
    expect(r.headers.set).toEqual({
      'x-tenant-id': 't1',
      'x-user-id': 'u1',
      'x-key-id': 'k1',
      'x-scopes': 'echo:read,keys:write',
    });
    expect(r.dynamicMetadata).toMatchObject({
      'edge.authn': { via: 'api_key', tenant: 't1', key_id: 'k1' },
    });
  });

  it('a JWT without key_id is refused (it could never be revoked)', async () => {
    const { harness } = await setup();
    const token = await sign(key, { key_id: undefined });
    const r = await harness().requestHeaders({
      ...REQ,
      authorization: `Bearer ${token}`,
      'x-key-id': 'forged',
    });
    expect(r.immediate?.status).toBe(401);
    expect((r.immediate!.json as { details: string }).details).toBe(
      'InvalidToken Token has no key_id',
    );
  });

  it.each([
    ['malformed base64', 'Basic !!!', 'MalformedCredentials'],
    ['no colon', `Basic ${Buffer.from('nocolon').toString('base64')}`, 'MalformedCredentials'],
    ['unknown key', basic('unknown', 'x'), 'UnknownKey'],
    ['wrong secret', basic('k1', 'bad'), 'InvalidSecret'],
    ['revoked key', basic('revoked', 'good'), 'RevokedKey'],
    ['expired key', basic('expired', 'good'), 'ExpiredKey'],
    ['8 KiB header', `Basic ${'A'.repeat(8192)}`, 'MalformedCredentials'],
    ['other scheme', 'Negotiate abc', 'UnsupportedScheme'],
  ])('%s -> 401 %s, the secret never echoed', async (_name, authorization, code) => {
    const { harness } = await setup();
    const r = await harness().requestHeaders({ ...REQ, authorization });
    expect(r.immediate?.status).toBe(401);
    const json = r.immediate!.json as { message: string; status: number; details: string };
    expect(json.message).toBe('Unauthenticated');
    expect(json.status).toBe(401);
    expect(json.details.split(' ')[0]).toBe(code);
    expect(json.details.length).toBeGreaterThan(code.length + 1);
    expect(r.immediate!.body).not.toContain('good');
    expect(r.immediate!.headers['www-authenticate']).toMatch(/realm="edge"/);
  });

  it.each([
    [
      'alg none',
      () =>
        Promise.resolve(
          unsignedToken(
            { sub: 'u', tenant: 't', iss: ISSUER, aud: AUDIENCE, exp: NOW_S + 60 },
            'k1',
          ),
        ),
      'InvalidToken',
    ],
    ['wrong audience', () => sign(key, {}, { aud: 'elsewhere' }), 'InvalidToken'],
    ['expired', () => sign(key, {}, { exp: NOW_S - 60 }), 'ExpiredToken'],
  ])('bearer %s -> 401 %s with a Bearer error challenge', async (_n, make, code) => {
    const { harness } = await setup();
    const token = await make();
    const r = await harness().requestHeaders({ ...REQ, authorization: `Bearer ${token}` });
    expect(r.immediate?.status).toBe(401);
    expect((r.immediate!.json as { details: string }).details).toMatch(new RegExp(`^${code} `));
    expect(r.immediate!.body).not.toContain(token);
    expect(r.immediate!.headers['www-authenticate']).toMatch(
      /^Bearer realm="edge", error="invalid_token"/,
    );
  });

  it('missing route scope -> 403 MissingScope', async () => {
    const { harness } = await setup();
    const r = await harness().requestHeaders(
      { ...REQ, authorization: basic('k1', 'good') },
      scopes(['echo:write']),
    );
    expect(r.immediate?.status).toBe(403);
    expect(r.immediate!.json).toEqual({
      message: 'Forbidden',
      status: 403,
      details: 'MissingScope echo:write',
    });
  });

  it('present route scope (and wildcard grants) pass', async () => {
    const { harness, backend } = await setup();
    expect(
      (
        await harness().requestHeaders(
          { ...REQ, authorization: basic('k1', 'good') },
          scopes(['echo:read']),
        )
      ).immediate,
    ).toBeUndefined();
    backend.answer = (keyId) => ({
      kind: 'ok',
      principal: principal({ keyId, scopes: sc('echo:*') }),
      cacheTtlMs: 1000,
    });
    expect(
      (
        await harness().requestHeaders(
          { ...REQ, authorization: basic('k2', 'x') },
          scopes(['echo:write']),
        )
      ).immediate,
    ).toBeUndefined();
  });

  it('bearer missing scope -> 403 with an insufficient_scope challenge', async () => {
    const { harness } = await setup();
    const token = await sign(key, { scopes: ['keys:read'] });
    const r = await harness().requestHeaders(
      { ...REQ, authorization: `Bearer ${token}` },
      scopes(['echo:read']),
    );
    expect(r.immediate?.status).toBe(403);
    expect(r.immediate!.headers['www-authenticate']).toBe(
      'Bearer realm="edge", error="insufficient_scope", scope="echo:read"',
    );
  });

  it('auth backend down -> 503 JSON, never passed through', async () => {
    const { harness, lines } = await setup();
    const r = await harness().requestHeaders({ ...REQ, authorization: basic('down', 'good') });
    expect(r.immediate?.status).toBe(503);
    expect(r.immediate!.json).toEqual({
      message: 'Service Unavailable',
      status: 503,
      details: 'AuthBackendUnavailable Auth service did not answer (UNAVAILABLE)',
    });
    expect(
      lines.some((l) => l.level === 'warn' && l.fields.outcome === 'AuthBackendUnavailable'),
    ).toBe(true);
  });

  it('JWKS unreachable -> 503', async () => {
    const { harness, fetcher } = await setup();
    fetcher.fail = new AuthBackendUnavailable('JWKS could not be fetched');
    const r = await harness().requestHeaders({
      ...REQ,
      authorization: `Bearer ${await sign(key)}`,
    });
    expect(r.immediate?.status).toBe(503);
  });

  it('public routes pass without credentials, still dropping client identity headers', async () => {
    const { harness } = await setup();
    const r = await harness().requestHeaders(
      { ...REQ, 'x-tenant-id': 'forged' },
      route({ public: true }),
    );
    expect(r.immediate).toBeUndefined();
    expect(r.headers.remove).toEqual(
      expect.arrayContaining(['x-tenant-id', 'x-user-id', 'x-key-id', 'x-scopes']),
    );
    expect(r.headers.set).toEqual({});
  });

  it('malformed route metadata fails closed with 500', async () => {
    const { harness } = await setup();
    const r = await harness().requestHeaders(
      { ...REQ, authorization: basic('k1', 'good') },
      route({ required_scopes: 'echo:read' }),
    );
    expect(r.immediate?.status).toBe(500);
    expect((r.immediate!.json as { details: string }).details).toMatch(/^RouteMisconfigured /);
  });

  it('policy comes from route metadata only: dynamic metadata written by another filter is ignored', async () => {
    const { harness } = await setup();
    // A route that needs admin:read, and an earlier filter claiming "no scopes, public".
    const forged = { required_scopes: [], public: true };
    const r = await harness().requestHeaders(
      { ...REQ, authorization: basic('k1', 'good') },
      {
        ...route({ required_scopes: ['admin:read'] }),
        metadataContext: { 'edge.authn.route': forged, 'edge.authn': forged },
      },
    );
    expect(r.immediate?.status).toBe(403);
    // No route metadata at all: the default (authenticate), never the forged public flag.
    const anon = await harness().requestHeaders(REQ, {
      metadataContext: { 'edge.authn.route': forged, 'edge.authn': forged },
    });
    expect(anon.immediate?.status).toBe(401);
  });

  it('logs never contain the secret or the token', async () => {
    const { harness, lines } = await setup();
    const token = await sign(key, {}, { aud: 'x' });
    await harness().requestHeaders({ ...REQ, authorization: basic('k1', 'supersecretvalue') });
    await harness().requestHeaders({ ...REQ, authorization: `Bearer ${token}` });
    const all = JSON.stringify(lines);
    expect(all).not.toContain('supersecretvalue');
    expect(all).not.toContain(token);
  });

  it('a warm cache answers repeated Basic requests without calling the auth service', async () => {
    const { harness, backend } = await setup();
    for (let i = 0; i < 5; i++) {
      const r = await harness().requestHeaders({ ...REQ, authorization: basic('k1', 'good') });
      expect(r.immediate).toBeUndefined();
    }
    expect(backend.calls).toHaveLength(1);
  });

  it('a REVOKED event also refuses JWTs exchanged for that key (not just Basic)', async () => {
    const { harness, backend } = await setup();
    const token = await sign(key, { key_id: 'k7' });
    expect(
      (await harness().requestHeaders({ ...REQ, authorization: `Bearer ${token}` })).immediate,
    ).toBeUndefined();
    backend.emit({ type: 'revoked', keyId: 'k7' });
    const r = await harness().requestHeaders({ ...REQ, authorization: `Bearer ${token}` });
    expect(r.immediate?.status).toBe(401);
    expect((r.immediate!.json as { details: string }).details).toMatch(/^RevokedKey /);
    // a rotation does not revoke the key id
    backend.emit({ type: 'rotated', keyId: 'k1' });
    const t2 = await sign(key, { key_id: 'k1' });
    expect(
      (await harness().requestHeaders({ ...REQ, authorization: `Bearer ${t2}` })).immediate,
    ).toBeUndefined();
  });
});
