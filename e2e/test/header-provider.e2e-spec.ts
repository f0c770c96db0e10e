// The header provider and echo's sidecar through the real front proxy: what a workload's callee
// receives (the provided headers and a live workload token that verifies against the JWKS).
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import { basic, createRootKey, type EchoBody, type RootKey } from './support';

describe('header provider → sidecar Wasm filter → echo, through the front proxy', () => {
  let stack: FrontProxyStack;
  let caller: RootKey;

  beforeAll(async () => {
    stack = await startFrontProxyStack({
      headerProviderEnv: { STATIC_HEADERS: '{"x-mesh-workload":"echo","bad name":"never served"}' },
      headerCacheExpiry: '3s',
    });
    caller = await createRootKey(stack.authUrl);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function echo(headers: Record<string, string> = {}): Promise<EchoBody> {
    const res = await fetch(`${stack.proxyUrl}/api/v0/echo`, {
      headers: { authorization: basic(caller.key_id, caller.secret), ...headers },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as EchoBody;
  }

  async function echoWithToken(headers: Record<string, string> = {}): Promise<EchoBody> {
    const t0 = Date.now();
    for (;;) {
      const body = await echo(headers);
      if (body.headers['x-workload-token'] !== headers['x-workload-token']) return body;
      if (Date.now() - t0 > 20_000) throw new Error('no workload token within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('echo receives the configured headers and the workload token, which verifies against the JWKS', async () => {
    const body = await echoWithToken();
    expect(body.headers['x-mesh-workload']).toBe('echo');
    expect(body.headers['bad name']).toBeUndefined();
    const token = body.headers['x-workload-token'] as string;
    const jwks = createRemoteJWKSet(new URL(`${stack.authUrl}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: 'edge-auth',
      audience: 'edge',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.alg).toBe('ES256');
    // The workload's identity, not the caller's.
    expect(payload.key_id).toBe(stack.workloadKey.keyId);
    expect(payload.key_id).not.toBe(caller.key_id);
    expect(payload.exp! * 1000).toBeGreaterThan(Date.now());
  });

  it('a caller cannot forge the workload token: the provided value replaces it', async () => {
    const body = await echoWithToken({ 'x-workload-token': 'forged.by.caller' });
    expect(body.headers['x-workload-token']).not.toBe('forged.by.caller');
    expect(decodeJwt(body.headers['x-workload-token'] as string).key_id).toBe(
      stack.workloadKey.keyId,
    );
  });

  it('the header provider down: the sidecar keeps the cached headers until expiry, then passes requests without them', async () => {
    await echoWithToken();
    await stack.stopPart('header-provider');
    const t0 = Date.now();
    let last: EchoBody;
    do {
      last = await echo();
      if (Date.now() - t0 > 20_000) throw new Error('cached headers never expired');
      await new Promise((r) => setTimeout(r, 200));
    } while (last.headers['x-workload-token'] !== undefined);
    expect(last.headers['x-mesh-workload']).toBeUndefined();
    await stack.startPart('header-provider');
    expect((await echoWithToken()).headers['x-mesh-workload']).toBe('echo');
  });
});
