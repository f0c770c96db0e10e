// The whole app (Nest context, ext_proc gRPC server) driven over a real ext_proc gRPC stream,
// with a real gRPC auth backend and a real HTTP JWKS endpoint started in-test.
import { authV1 } from '@edge/protos';
import { connectHarness } from '@edge/processor-core/testing';
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { type INestApplicationContext } from '@nestjs/common';
import { createServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthnProcessorApp } from '../src/app';
import { loadAuthnProcessorConfig } from '../src/config/authn-processor.config';
import { ExtProcLifecycle } from '../src/ext-proc/ext-proc-lifecycle.service';
import { VerifiedTokenCache } from '../src/jwt/verified-token.cache';
import { KeyEventsWatcher } from '../src/key-verification/key-events.watcher';

const { VerifyKeyResult, KeyEventType } = authV1;

describe('authn-processor app over ext_proc gRPC', () => {
  let auth: Server;
  let jwks: HttpServer;
  let app: INestApplicationContext;
  let address: string;
  let token: string;
  let verifyCalls = 0;

  beforeAll(async () => {
    auth = new Server();
    auth.addService(authV1.KeyVerificationServiceService, {
      verifyKey: (
        call: ServerUnaryCall<authV1.VerifyKeyRequest, authV1.VerifyKeyResponse>,
        cb: sendUnaryData<authV1.VerifyKeyResponse>,
      ) => {
        verifyCalls++;
        const ok = call.request.keyId === 'k1' && call.request.secret === 's1';
        cb(null, {
          result: ok
            ? VerifyKeyResult.VERIFY_KEY_RESULT_OK
            : VerifyKeyResult.VERIFY_KEY_RESULT_WRONG_SECRET,
          principal: ok
            ? {
                tenant: 't1',
                userId: 'u1',
                keyId: 'k1',
                scopes: [{ resource: 'keys', action: 'read' }],
                expiresAt: undefined,
              }
            : undefined,
          cacheTtlSeconds: 60,
        });
      },
      listRevokedKeys: (
        _call: ServerUnaryCall<authV1.ListRevokedKeysRequest, authV1.ListRevokedKeysResponse>,
        cb: sendUnaryData<authV1.ListRevokedKeysResponse>,
      ) => cb(null, { keys: [], rotated: [], sequence: 0 }),
      watchKeyEvents: (
        call: ServerWritableStream<authV1.WatchKeyEventsRequest, authV1.WatchKeyEventsResponse>,
      ) => {
        call.write({
          type: KeyEventType.KEY_EVENT_TYPE_SUBSCRIBED,
          keyId: '',
          at: new Date(),
          sequence: 0,
        });
      },
    });
    const authPort = await new Promise<number>((resolve, reject) =>
      auth.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );

    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'kid-1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const jwksPort = (jwks.address() as AddressInfo).port;
    token = await new SignJWT({ tenant: 't2', key_id: 'k9', scopes: ['echo:read'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'kid-1' })
      .setSubject('u2')
      .setIssuer('edge-auth')
      .setAudience('edge')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

    app = await createAuthnProcessorApp(
      loadAuthnProcessorConfig({
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'error',
        AUTH_GRPC_URL: `127.0.0.1:${authPort}`,
        AUTH_JWKS_URL: `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`,
      }),
    );
    address = `127.0.0.1:${app.get(ExtProcLifecycle).port}`;
    const watcher = app.get(KeyEventsWatcher);
    for (let i = 0; i < 500 && !watcher.live; i++) await new Promise((r) => setTimeout(r, 10));
    expect(watcher.live).toBe(true);
  });

  afterAll(async () => {
    await app?.close();
    auth?.forceShutdown();
    jwks?.close();
  });

  /** `routeMetadata`: the matched route's filter_metadata, sent as Envoy's xds.route_metadata. */
  async function call(
    headers: Record<string, string>,
    routeMetadata?: Record<string, Record<string, unknown>>,
  ) {
    const h = connectHarness({ address });
    const r = await h.requestHeaders(
      { ':method': 'GET', ':path': '/api/v0/echo', 'x-request-id': 'r1', ...headers },
      routeMetadata
        ? { attributes: { 'xds.route_metadata': { filter_metadata: routeMetadata } } }
        : undefined,
    );
    await h.end();
    return r;
  }

  it('no credentials -> 401 quickstart body', async () => {
    const r = await call({});
    expect(r.immediate?.body).toBe(
      '{"message": "Unauthenticated", "status": 401, "details": "NoCredentials One of identity or secret not passed"}',
    );
  });

  it('Basic key -> identity headers; repeats are served from the cache', async () => {
    const before = verifyCalls;
    for (let i = 0; i < 3; i++) {
      const r = await call({
        authorization: `Basic ${Buffer.from('k1:s1').toString('base64')}`,
        'x-tenant-id': 'evil',
      });
      expect(r.immediate).toBeUndefined();
      expect(r.headers.set).toMatchObject({
        'x-tenant-id': 't1',
        'x-key-id': 'k1',
        'x-scopes': 'keys:read',
      });
      expect(r.headers.remove).toContain('authorization');
    }
    expect(verifyCalls - before).toBe(1);
  });

  it('Bearer JWT from the JWKS -> identity headers; route scope enforced', async () => {
    const tokens = app.get(VerifiedTokenCache);
    const { hits, misses } = tokens.stats;
    const ok = await call(
      { authorization: `Bearer ${token}` },
      { 'edge.authn.route': { required_scopes: ['echo:read'] } },
    );
    expect(ok.headers.set).toMatchObject({
      'x-tenant-id': 't2',
      'x-user-id': 'u2',
      'x-key-id': 'k9',
    });
    const forbidden = await call(
      { authorization: `Bearer ${token}` },
      { 'edge.authn.route': { required_scopes: ['echo:write'] } },
    );
    expect(forbidden.immediate?.json).toEqual({
      message: 'Forbidden',
      status: 403,
      details: 'MissingScope echo:write',
    });
    // the second request was answered from the verified-token cache (no signature check)
    expect(tokens.stats.misses - misses).toBe(1);
    expect(tokens.stats.hits - hits).toBe(1);
  });
});
