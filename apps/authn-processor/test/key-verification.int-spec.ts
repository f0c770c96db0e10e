// The gRPC key-verification client (cache, single-flight, revocation watcher) against a real
// grpc-js server implementing edge.auth.v1.KeyVerificationService from the generated definition.
import { authV1 } from '@edge/protos';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthBackendUnavailable, AuthnFailure } from '../src/authn/authn-error';
import { Authenticator } from '../src/authn/authenticator';
import { DEFAULT_POLICY } from '../src/authn/route-policy';
import { SystemClock } from '@edge/auth-contract';
import { GrpcKeyVerificationBackend } from '../src/key-verification/grpc-key-verification.backend';
import { KeyCache } from '../src/key-verification/key-cache';
import { KeyEventsWatcher } from '../src/key-verification/key-events.watcher';
import { KeyVerifier } from '../src/key-verification/key-verifier';
import { silentLogger } from '../src/logging/logger';

const { VerifyKeyResult, KeyEventType } = authV1;

/** A real gRPC auth backend with an in-memory key table, controllable by the test. */
class AuthServer {
  server: Server | undefined;
  port = 0;
  calls = 0;
  delayMs = 0;
  failWith: status | undefined;
  readonly keys = new Map<string, { secret: string; revoked: boolean }>([
    ['k1', { secret: 's1', revoked: false }],
    ['k2', { secret: 's2', revoked: false }],
  ]);
  readonly watchers = new Set<
    ServerWritableStream<authV1.WatchKeyEventsRequest, authV1.WatchKeyEventsResponse>
  >();

  async start(port = 0): Promise<void> {
    const server = new Server();
    server.addService(authV1.KeyVerificationServiceService, {
      verifyKey: (
        call: ServerUnaryCall<authV1.VerifyKeyRequest, authV1.VerifyKeyResponse>,
        cb: sendUnaryData<authV1.VerifyKeyResponse>,
      ) => {
        this.calls++;
        const answer = () => {
          if (this.failWith !== undefined) return cb({ code: this.failWith, details: 'db down' });
          const k = this.keys.get(call.request.keyId);
          const res = (result: authV1.VerifyKeyResult): authV1.VerifyKeyResponse => ({
            result,
            principal: undefined,
            cacheTtlSeconds: 0,
          });
          if (k === undefined) return cb(null, res(VerifyKeyResult.VERIFY_KEY_RESULT_UNKNOWN_KEY));
          if (k.revoked) return cb(null, res(VerifyKeyResult.VERIFY_KEY_RESULT_REVOKED));
          if (k.secret !== call.request.secret) {
            return cb(null, res(VerifyKeyResult.VERIFY_KEY_RESULT_WRONG_SECRET));
          }
          cb(null, {
            result: VerifyKeyResult.VERIFY_KEY_RESULT_OK,
            principal: {
              tenant: 't1',
              userId: 'u1',
              keyId: call.request.keyId,
              scopes: [{ resource: 'echo', action: 'read' }],
              expiresAt: undefined,
            },
            cacheTtlSeconds: 60,
          });
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      },
      listRevokedKeys: (
        _call: ServerUnaryCall<authV1.ListRevokedKeysRequest, authV1.ListRevokedKeysResponse>,
        cb: sendUnaryData<authV1.ListRevokedKeysResponse>,
      ) => cb(null, { keys: [], rotated: [], sequence: 0 }),
      watchKeyEvents: (
        call: ServerWritableStream<authV1.WatchKeyEventsRequest, authV1.WatchKeyEventsResponse>,
      ) => {
        this.watchers.add(call);
        call.on('cancelled', () => this.watchers.delete(call));
        call.write({
          type: KeyEventType.KEY_EVENT_TYPE_SUBSCRIBED,
          keyId: '',
          at: new Date(),
          sequence: 0,
        });
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
        err !== null ? reject(err) : resolve(p),
      ),
    );
    this.server = server;
  }

  revoke(keyId: string): void {
    const k = this.keys.get(keyId);
    if (k !== undefined) k.revoked = true;
    for (const w of this.watchers) {
      w.write({ type: KeyEventType.KEY_EVENT_TYPE_REVOKED, keyId, at: new Date(), sequence: 1 });
    }
  }

  stop(): void {
    this.watchers.clear();
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const noTokens = { verify: () => Promise.reject(new Error('no tokens in this test')) };

describe('gRPC key verification (real grpc-js server)', () => {
  const auth = new AuthServer();
  let backend: GrpcKeyVerificationBackend;
  let cache: KeyCache;
  let watcher: KeyEventsWatcher;
  let verifier: KeyVerifier;
  let authenticator: Authenticator;
  const basic = (id: string, secret: string) => [
    `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
  ];

  beforeAll(async () => {
    await auth.start();
    const clock = new SystemClock();
    backend = new GrpcKeyVerificationBackend({
      address: `127.0.0.1:${auth.port}`,
      verifyTimeoutMs: 300,
    });
    cache = new KeyCache(clock, { maxEntries: 1000, maxTtlMs: 60_000 });
    watcher = new KeyEventsWatcher(backend, cache, silentLogger, {
      initialBackoffMs: 50,
      maxBackoffMs: 200,
    });
    verifier = new KeyVerifier(backend, cache, watcher, clock);
    authenticator = new Authenticator(verifier, noTokens, {
      maxAuthorizationBytes: 4096,
      realm: 'edge',
    });
    watcher.start();
    await until(() => watcher.live);
  });

  afterEach(() => {
    auth.delayMs = 0;
    auth.failWith = undefined;
  });

  afterAll(() => {
    watcher.stop();
    backend.close();
    auth.stop();
  });

  it('verifies a key and serves repeats from the cache with no call', async () => {
    const before = auth.calls;
    const p = await verifier.verify('k1', 's1');
    expect(p).toMatchObject({
      tenant: 't1',
      userId: 'u1',
      keyId: 'k1',
      scopes: [{ resource: 'echo', action: 'read' }],
    });
    for (let i = 0; i < 20; i++) await verifier.verify('k1', 's1');
    expect(auth.calls - before).toBe(1);
  });

  it('coalesces concurrent identical lookups into one call', async () => {
    auth.delayMs = 50;
    const before = auth.calls;
    await Promise.all(Array.from({ length: 10 }, () => verifier.verify('k2', 's2')));
    expect(auth.calls - before).toBe(1);
  });

  it('maps negative answers to 401 codes', async () => {
    const code = async (id: string, s: string) => {
      const d = await authenticator.decide(basic(id, s), DEFAULT_POLICY);
      return d.kind === 'deny' ? `${d.status} ${d.code}` : 'allow';
    };
    expect(await code('nope', 'x')).toBe('401 UnknownKey');
    expect(await code('k1', 'wrong')).toBe('401 InvalidSecret');
  });

  it('a REVOKED event evicts the key within 1 s', async () => {
    auth.keys.set('k3', { secret: 's3', revoked: false });
    await verifier.verify('k3', 's3');
    const calls = auth.calls;
    await verifier.verify('k3', 's3');
    expect(auth.calls).toBe(calls); // cached
    const t0 = Date.now();
    auth.revoke('k3');
    let outcome = 'allow';
    while (Date.now() - t0 < 1_000) {
      const d = await authenticator.decide(basic('k3', 's3'), DEFAULT_POLICY);
      if (d.kind === 'deny') {
        outcome = `${d.status} ${d.code}`;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(outcome).toBe('401 RevokedKey');
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('a slow auth service hits the deadline -> 503 (fail closed)', async () => {
    auth.delayMs = 1_000;
    const t0 = Date.now();
    const d = await authenticator.decide(basic('k1', 'uncached-secret'), DEFAULT_POLICY);
    expect(d).toMatchObject({ kind: 'deny', status: 503, code: 'AuthBackendUnavailable' });
    expect(d.kind === 'deny' && d.body).toContain('DEADLINE_EXCEEDED');
    expect(Date.now() - t0).toBeLessThan(900);
  });

  it('a database failure (INTERNAL) -> 503', async () => {
    auth.failWith = status.INTERNAL;
    const d = await authenticator.decide(basic('k2', 'other'), DEFAULT_POLICY);
    expect(d).toMatchObject({ kind: 'deny', status: 503 });
  });

  it('server down -> cache dropped, 503 for every request; back up -> reconnects and caches again', async () => {
    await verifier.verify('k1', 's1'); // warm
    const port = auth.port;
    auth.stop();
    await until(() => !watcher.live);
    expect(cache.size).toBe(0);
    // Even the previously cached key is now refused: the cache is not trusted without the stream.
    const d = await authenticator.decide(basic('k1', 's1'), DEFAULT_POLICY);
    expect(d).toMatchObject({ kind: 'deny', status: 503, code: 'AuthBackendUnavailable' });
    await expect(verifier.verify('k2', 's2')).rejects.toBeInstanceOf(AuthBackendUnavailable);

    await auth.start(port);
    await until(() => watcher.live, 10_000);
    const before = auth.calls;
    await verifier.verify('k1', 's1');
    await verifier.verify('k1', 's1');
    expect(auth.calls - before).toBe(1);
    // and revocations flow on the new stream
    auth.revoke('k1');
    await until(() => cache.size === 0, 1_000);
    await expect(verifier.verify('k1', 's1')).rejects.toSatisfy(
      (e) => e instanceof AuthnFailure && e.code === 'RevokedKey',
    );
  });
});
