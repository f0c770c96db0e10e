// TLS towards the auth service: the gRPC client over mTLS against a real grpc-js server that
// requires client certificates, the JWKS fetch over https trusting only AUTH_TLS_CA_FILE, and
// the boot-time reading of the files. Certificates come from the openssl CLI (createTestPki).
import { authV1 } from '@edge/protos';
import { ConfigError } from '@edge/service-config';
import { createTestPki, type TestPki } from '@edge/testkit';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthBackendUnavailable } from '../src/authn/authn-error';
import { HttpJwksFetcher } from '../src/jwt/jwks.fetcher';
import { GrpcKeyVerificationBackend } from '../src/key-verification/grpc-key-verification.backend';
import { type AuthTls, readAuthTls } from '../src/tls/auth-tls';

let pki: TestPki;
let grpcServer: Server;
let grpcPort: number;
let https: HttpsServer;
let jwksUrl: string;
let verifyCalls = 0;

const read = (f: string) => readFileSync(f);

beforeAll(async () => {
  pki = createTestPki();
  grpcServer = new Server();
  grpcServer.addService(authV1.KeyVerificationServiceService, {
    verifyKey: (
      _call: ServerUnaryCall<authV1.VerifyKeyRequest, authV1.VerifyKeyResponse>,
      cb: sendUnaryData<authV1.VerifyKeyResponse>,
    ) => {
      verifyCalls++;
      cb(null, {
        result: authV1.VerifyKeyResult.VERIFY_KEY_RESULT_UNKNOWN_KEY,
        principal: undefined,
        cacheTtlSeconds: 0,
      });
    },
    listRevokedKeys: () => undefined,
    watchKeyEvents: () => undefined,
  });
  grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync(
      '127.0.0.1:0',
      ServerCredentials.createSsl(
        read(pki.ca.cert),
        [{ cert_chain: read(pki.server.cert), private_key: read(pki.server.key) }],
        true,
      ),
      (err, p) => (err !== null ? reject(err) : resolve(p)),
    ),
  );
  https = createServer({ cert: read(pki.server.cert), key: read(pki.server.key) }, (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] }));
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  jwksUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  grpcServer?.forceShutdown();
  await new Promise<void>((resolve) => (https ? https.close(() => resolve()) : resolve()));
});

const tlsOf = (ca: string, client: { cert: string; key: string }): AuthTls => ({
  ca: read(ca),
  cert: read(client.cert),
  key: read(client.key),
});

async function verifyOnce(tls: AuthTls | undefined) {
  const backend = new GrpcKeyVerificationBackend({
    address: `127.0.0.1:${grpcPort}`,
    verifyTimeoutMs: 5_000,
    ...(tls !== undefined ? { tls } : {}),
  });
  try {
    return await backend.verifyKey('k_unknown', 's'.repeat(40));
  } finally {
    backend.close();
  }
}

describe('gRPC over mTLS', () => {
  it('verifies with a client certificate from the trusted CA', async () => {
    expect(await verifyOnce(tlsOf(pki.ca.cert, pki.client))).toEqual({ kind: 'unknown-key' });
  });

  it('fails closed (AuthBackendUnavailable) when either side is not trusted, or in plaintext', async () => {
    const before = verifyCalls;
    for (const tls of [
      tlsOf(pki.ca.cert, pki.untrustedClient), // the server refuses the client
      tlsOf(pki.untrustedCa.cert, pki.client), // the client refuses the server
      undefined, // plaintext against a TLS port
    ]) {
      await expect(verifyOnce(tls)).rejects.toBeInstanceOf(AuthBackendUnavailable);
    }
    expect(verifyCalls).toBe(before);
  });
});

describe('JWKS over https', () => {
  it('fetches with the configured CA', async () => {
    const f = new HttpJwksFetcher(jwksUrl, 5_000, read(pki.ca.cert));
    try {
      expect((await f.fetch()).keys[0]?.kid).toBe('k1');
    } finally {
      await f.close();
    }
  });

  it('fails closed when the server certificate is not from the configured CA', async () => {
    for (const ca of [read(pki.untrustedCa.cert), undefined]) {
      const f = new HttpJwksFetcher(jwksUrl, 5_000, ca);
      try {
        await expect(f.fetch()).rejects.toBeInstanceOf(AuthBackendUnavailable);
      } finally {
        await f.close();
      }
    }
  });
});

describe('readAuthTls', () => {
  it('reads nothing when TLS is not configured', () => {
    expect(readAuthTls({})).toBeUndefined();
  });

  it('reports every unreadable or wrong file at once, by variable name', () => {
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'nope\n');
    let err: unknown;
    try {
      readAuthTls({
        AUTH_TLS_CA_FILE: pki.client.cert,
        AUTH_TLS_CERT_FILE: join(pki.dir, 'missing.crt'),
        AUTH_TLS_KEY_FILE: garbage,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toHaveLength(3);
    expect((err as ConfigError).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AUTH_TLS_CERT_FILE: cannot read .*missing\.crt \(ENOENT\)$/),
        'AUTH_TLS_CA_FILE: not a CA certificate',
        'AUTH_TLS_KEY_FILE: not a PEM private key (or it is encrypted)',
      ]),
    );
    expect(() =>
      readAuthTls({
        AUTH_TLS_CA_FILE: pki.ca.cert,
        AUTH_TLS_CERT_FILE: pki.client.cert,
        AUTH_TLS_KEY_FILE: pki.server.key,
      }),
    ).toThrow(/AUTH_TLS_KEY_FILE: does not match the certificate/);
  });

  it('returns the three files when they are good', () => {
    const tls = readAuthTls({
      AUTH_TLS_CA_FILE: pki.ca.cert,
      AUTH_TLS_CERT_FILE: pki.client.cert,
      AUTH_TLS_KEY_FILE: pki.client.key,
    });
    expect(tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
  });
});
