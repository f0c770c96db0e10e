// TLS (issue 6 §4): HTTPS for the JWKS and mTLS on the gRPC port, with certificates made by the
// openssl CLI for this run; real Postgres, real sockets.
import { authV1, health } from '@edge/protos';
import { ConfigError } from '@edge/service-config';
import { createTestPki, type PostgresInfo, type Started, type TestPki } from '@edge/testkit';
import {
  type ChannelCredentials,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAuth, startAuth, startPostgres, verifyKey } from './helpers';

let pki: TestPki;
let pg: Started<PostgresInfo>;
let auth: RunningAuth;
let port: number;
let grpcPort: number;

const tlsEnv = (p: TestPki) => ({
  TLS_CERT_FILE: p.server.cert,
  TLS_KEY_FILE: p.server.key,
  GRPC_CLIENT_CA_FILE: p.ca.cert,
});

beforeAll(async () => {
  pki = createTestPki();
  pg = await startPostgres();
  auth = await startAuth(pg.info.url, tlsEnv(pki));
  port = auth.config.PORT;
  grpcPort = auth.config.GRPC_PORT;
});

afterAll(async () => {
  await auth?.close();
  await pg?.stop();
});

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const read = (f: string) => readFileSync(f);
const mtls = (ca: string, client?: { cert: string; key: string }): ChannelCredentials =>
  client === undefined
    ? credentials.createSsl(read(ca))
    : credentials.createSsl(read(ca), read(client.key), read(client.cert));

async function verifyWith(creds: ChannelCredentials, target = `127.0.0.1:${grpcPort}`) {
  const client = new authV1.KeyVerificationServiceClient(target, creds);
  try {
    return await verifyKey(client, 'k_unknown_0000000000000000', 's'.repeat(40));
  } finally {
    client.close();
  }
}

function checkHealth(creds: ChannelCredentials): Promise<health.HealthCheckResponse> {
  const client = new health.HealthClient(`127.0.0.1:${grpcPort}`, creds);
  return new Promise<health.HealthCheckResponse>((resolve, reject) =>
    client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  ).finally(() => client.close());
}

async function refused(p: Promise<unknown>): Promise<ServiceError> {
  const err = await p.then(
    () => {
      throw new Error('the call succeeded; it must be refused');
    },
    (e: unknown) => e as ServiceError,
  );
  expect(err.code).toBe(status.UNAVAILABLE);
  return err;
}

describe('HTTPS', () => {
  it('serves the JWKS over https with the configured certificate', async () => {
    const res = await httpsGet(
      `https://127.0.0.1:${port}/.well-known/jwks.json`,
      read(pki.ca.cert),
    );
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    // The name in the SAN is accepted too.
    const byName = await httpsGet(`https://localhost:${port}/health`, read(pki.ca.cert));
    expect(byName.status).toBe(200);
  });

  it('is not verifiable against another CA, and plaintext HTTP gets no JWKS', async () => {
    await expect(
      httpsGet(`https://127.0.0.1:${port}/.well-known/jwks.json`, read(pki.untrustedCa.cert)),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    const plain = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`).then(
      (r) => r.status,
      () => 'no answer',
    );
    expect(plain).not.toBe(200);
  });
});

describe('gRPC mTLS', () => {
  it('answers a client with a certificate from the trusted CA', async () => {
    const res = await verifyWith(mtls(pki.ca.cert, pki.client));
    expect(res.result).toBe(authV1.VerifyKeyResult.VERIFY_KEY_RESULT_UNKNOWN_KEY);
    expect((await checkHealth(mtls(pki.ca.cert, pki.client))).status).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
  });

  it('refuses a TLS client without a certificate', async () => {
    await refused(verifyWith(mtls(pki.ca.cert)));
    await refused(checkHealth(mtls(pki.ca.cert)));
  });

  it('refuses a client certificate from an untrusted CA', async () => {
    await refused(verifyWith(mtls(pki.ca.cert, pki.untrustedClient)));
  });

  it('refuses a plaintext client', async () => {
    await refused(verifyWith(credentials.createInsecure()));
  });

  it('is refused by a client that does not trust the server CA', async () => {
    await refused(verifyWith(mtls(pki.untrustedCa.cert, pki.untrustedClient)));
  });
});

describe('TLS files at boot', () => {
  it('reports every unreadable or wrong file at once, naming the variable, before binding', async () => {
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a pem\n');
    const err = await startAuth(pg.info.url, {
      TLS_CERT_FILE: join(pki.dir, 'missing.crt'),
      TLS_KEY_FILE: garbage,
      GRPC_CLIENT_CA_FILE: pki.client.cert,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^TLS_CERT_FILE: cannot read .*missing\.crt \(ENOENT\)$/),
        'TLS_KEY_FILE: not a PEM private key (or it is encrypted)',
        'GRPC_CLIENT_CA_FILE: not a CA certificate',
      ]),
    );
  });

  it('refuses a device or a directory instead of reading it (no hang on /dev/zero)', async () => {
    const err = await startAuth(pg.info.url, {
      TLS_CERT_FILE: '/dev/zero',
      TLS_KEY_FILE: pki.dir,
      GRPC_CLIENT_CA_FILE: pki.ca.cert,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ConfigError).problems).toEqual([
      'TLS_CERT_FILE: cannot read /dev/zero (not a regular file)',
      `TLS_KEY_FILE: cannot read ${pki.dir} (not a regular file)`,
    ]);
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const err = await startAuth(pg.info.url, {
      ...tlsEnv(pki),
      TLS_KEY_FILE: pki.client.key,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ConfigError).problems).toEqual([
      'TLS_KEY_FILE: does not match the certificate in TLS_CERT_FILE',
    ]);
  });
});
