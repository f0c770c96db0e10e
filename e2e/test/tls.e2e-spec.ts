// TLS between the authn processor and the auth service (issue 6 §4), through the real front
// proxy: gRPC over mTLS and the JWKS over https, with certificates made by the openssl CLI for
// this run. A processor that does not trust the server, or whose client certificate the server
// does not trust, fails closed (503 JSON), never passes a request.
import {
  createTestPki,
  freePort,
  type NodeServiceInfo,
  type Started,
  startNodeService,
  type TestPki,
} from '@edge/testkit';
import { readFileSync } from 'node:fs';
import { Agent, fetch as tlsFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appEntry, type FrontProxyStack, startFrontProxyStack } from '../src';
import { type EchoBody, type RootKey, basic, expectJsonError } from './support';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `probe` returns true (generous: the machine is shared). */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('auth over TLS through the front proxy', () => {
  let pki: TestPki;
  let stack: FrontProxyStack;
  let trusting: Agent;
  let root: RootKey;
  let extra: Started<NodeServiceInfo> | undefined;

  /** The auth service's HTTP API, trusting only the test CA. */
  const authApi = (path: string, init: Parameters<typeof tlsFetch>[1] = {}) =>
    tlsFetch(`${stack.authUrl}${path}`, { ...init, dispatcher: trusting });

  const proxy = (authorization: string) =>
    fetch(`${stack.proxyUrl}/api/v0/echo`, { headers: { authorization } });

  const processorTls = (p: TestPki) => ({
    AUTH_TLS_CA_FILE: p.ca.cert,
    AUTH_TLS_CERT_FILE: p.client.cert,
    AUTH_TLS_KEY_FILE: p.client.key,
  });

  beforeAll(async () => {
    pki = createTestPki();
    trusting = new Agent({ connect: { ca: readFileSync(pki.ca.cert) } });
    stack = await startFrontProxyStack({
      authTls: true,
      authEnv: {
        TLS_CERT_FILE: pki.server.cert,
        TLS_KEY_FILE: pki.server.key,
        GRPC_CLIENT_CA_FILE: pki.ca.cert,
      },
      authnEnv: processorTls(pki),
    });
    expect(stack.authUrl).toMatch(/^https:/);
    const res = await authApi('/create-root-key');
    expect(res.status).toBe(200);
    root = (await res.json()) as RootKey;
  });

  afterEach(async () => {
    await extra?.stop();
    extra = undefined;
  });

  afterAll(async () => {
    await extra?.stop();
    await stack?.stop();
    await trusting?.close();
  });

  it('the auth service answers https only: plaintext HTTP gets nothing', async () => {
    const plain = await fetch(`${stack.authUrl.replace('https:', 'http:')}/health`).then(
      (r) => r.status,
      () => 'no answer',
    );
    expect(plain).not.toBe(200);
  });

  it('an API key verifies over gRPC mTLS (Basic through the proxy)', async () => {
    let last = 0;
    await until('the processor to verify over mTLS', async () => {
      last = (await proxy(basic(root.key_id, root.secret))).status;
      return last === 200;
    });
    const res = await proxy(basic(root.key_id, root.secret));
    expect(res.status).toBe(200);
    const echo = (await res.json()) as EchoBody;
    expect(echo.headers['x-tenant-id']).toBe(root.tenant);
    expect(echo.headers['x-key-id']).toBe(root.key_id);
    // A wrong secret is still a 401 (the mTLS channel carries real answers, not just "ok").
    await expectJsonError(await proxy(basic(root.key_id, 'W'.repeat(43))), 401, 'InvalidSecret');
  });

  it('a Bearer token verifies against the JWKS fetched over https', async () => {
    const res = await authApi('/token', {
      method: 'POST',
      headers: { authorization: basic(root.key_id, root.secret) },
    });
    expect(res.status).toBe(200);
    const jwt = ((await res.json()) as { access_token: string }).access_token;
    const through = await proxy(`Bearer ${jwt}`);
    expect(through.status).toBe(200);
    expect(((await through.json()) as EchoBody).headers['x-tenant-id']).toBe(root.tenant);
  });

  /** Replaces the stack's processor (same port, so Envoy uses it) with one configured by `env`. */
  async function replaceProcessor(env: Record<string, string>): Promise<void> {
    await stack.stopPart('authn-processor');
    extra = await startNodeService({
      name: 'e2e-authn-tls-variant',
      entry: appEntry('@edge/authn-processor'),
      env: {
        GRPC_PORT: String(stack.ports.authn),
        METRICS_PORT: String(await freePort()),
        AUTH_GRPC_URL: `127.0.0.1:${stack.ports.authGrpc}`,
        AUTH_JWKS_URL: `${stack.authUrl}/.well-known/jwks.json`,
        LOG_LEVEL: 'warn',
        ...env,
      },
      readyPorts: [stack.ports.authn],
    });
  }

  it('a processor that does not trust the server CA fails closed: 503 JSON for Basic and Bearer', async () => {
    const tokenRes = await authApi('/token', {
      method: 'POST',
      headers: { authorization: basic(root.key_id, root.secret) },
    });
    const jwt = ((await tokenRes.json()) as { access_token: string }).access_token;
    // Trusts only the other CA, and presents that CA's client certificate.
    await replaceProcessor({
      AUTH_TLS_CA_FILE: pki.untrustedCa.cert,
      AUTH_TLS_CERT_FILE: pki.untrustedClient.cert,
      AUTH_TLS_KEY_FILE: pki.untrustedClient.key,
    });
    for (let i = 0; i < 3; i++) {
      await expectJsonError(
        await proxy(basic(root.key_id, root.secret)),
        503,
        'AuthBackendUnavailable',
      );
      await expectJsonError(await proxy(`Bearer ${jwt}`), 503, 'AuthBackendUnavailable');
    }
  });

  it('a processor whose client certificate the server does not trust fails closed: 503 JSON', async () => {
    await replaceProcessor({
      AUTH_TLS_CA_FILE: pki.ca.cert,
      AUTH_TLS_CERT_FILE: pki.untrustedClient.cert,
      AUTH_TLS_KEY_FILE: pki.untrustedClient.key,
    });
    for (let i = 0; i < 3; i++) {
      await expectJsonError(
        await proxy(basic(root.key_id, root.secret)),
        503,
        'AuthBackendUnavailable',
      );
    }
  });

  it('a processor that refuses to start on an unreadable TLS file names the variable', async () => {
    await stack.stopPart('authn-processor');
    await expect(
      startNodeService({
        name: 'e2e-authn-tls-broken',
        entry: appEntry('@edge/authn-processor'),
        env: {
          GRPC_PORT: String(stack.ports.authn),
          METRICS_PORT: '0',
          AUTH_JWKS_URL: `${stack.authUrl}/.well-known/jwks.json`,
          ...processorTls(pki),
          AUTH_TLS_KEY_FILE: `${pki.dir}/missing.key`,
        },
        readyPorts: [stack.ports.authn],
        startTimeoutMs: 15_000,
      }),
    ).rejects.toThrow(/exited[\s\S]*AUTH_TLS_KEY_FILE: cannot read .*missing\.key \(ENOENT\)/);
    // Nothing listens, and Envoy fails closed without a processor.
    const res = await proxy(basic(root.key_id, root.secret));
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.status).not.toBe(200);
  });
});
