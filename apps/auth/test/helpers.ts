import { authV1, health } from '@edge/protos';
import { freePort, infraBackend, type PostgresInfo, type Started } from '@edge/testkit';
import { credentials } from '@grpc/grpc-js';
import { type INestApplication } from '@nestjs/common';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { startApp } from '../src/bootstrap';
import { type AuthConfig, loadAuthConfig } from '../src/config/config';

export const APP_DIR = join(__dirname, '..');

/**
 * Every test instance runs with the explicit dev opt-in (loopback, development secrets) and
 * rate limits far above what a test sends from 127.0.0.1; the throttling test sets its own.
 */
export const TEST_ENV = {
  AUTH_DEV_MODE: '1',
  THROTTLE_LIMIT: '100000',
  THROTTLE_CREDENTIAL_LIMIT: '100000',
};

/** A real Postgres from the testkit. Throws (never skips) when it cannot be started. */
export function startPostgres(opts: { port?: number } = {}): Promise<Started<PostgresInfo>> {
  return infraBackend().postgres({ name: 'auth-test', ...opts });
}

export interface RunningAuth {
  app: INestApplication;
  config: AuthConfig;
  http: string;
  grpc: string;
  close(): Promise<void>;
}

/** The auth service in this process (src, via vitest), on free ports, with the real migrations. */
export async function startAuth(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<RunningAuth> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const config = loadAuthConfig({
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    GRPC_PORT: String(grpcPort),
    LOG_LEVEL: 'error',
    NODE_ENV: 'test',
    ...TEST_ENV,
    ...env,
  });
  const app = await startApp(config);
  return {
    app,
    config,
    http: `http://127.0.0.1:${port}`,
    grpc: `127.0.0.1:${grpcPort}`,
    close: () => app.close(),
  };
}

/** A second replica as its own process, from the build (`pnpm build` runs before integration). */
export async function spawnBuiltAuth(
  databaseUrl: string,
): Promise<{ http: string; grpc: string; proc: ChildProcess; stop(): Promise<void> }> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const proc = spawn(process.execPath, [join(APP_DIR, 'dist/main.js')], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      ...TEST_ENV,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const http = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`built auth exited: ${stderr}`);
    const ok = await fetch(`${http}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`built auth not ready: ${stderr}`);
    await sleep(200);
  }
  return {
    http,
    grpc: `127.0.0.1:${grpcPort}`,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function basic(id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
}

export interface KeyWithSecret {
  tenant: string;
  user_id: string;
  key_id: string;
  secret: string;
  status: string;
  scopes: { resource: string; action: string }[];
  created_at?: string;
  updated_at?: string;
  expires_at?: string;
  revoked_at: string | null;
  previous_secret_expires_at?: string | null;
}

/** fetch + JSON, keeping status and headers. */
export async function call<T = Record<string, unknown>>(
  url: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { ...init, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${url}: non-JSON ${res.status} response: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export async function rootKey(
  http: string,
  headers: Record<string, string> = {},
): Promise<KeyWithSecret> {
  const r = await call<KeyWithSecret>(`${http}/create-root-key`, { headers });
  if (r.status !== 200) throw new Error(`create-root-key: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export function grpcClient(addr: string): authV1.KeyVerificationServiceClient {
  return new authV1.KeyVerificationServiceClient(addr, credentials.createInsecure());
}

export function healthClient(addr: string): health.HealthClient {
  return new health.HealthClient(addr, credentials.createInsecure());
}

export function verifyKey(
  client: authV1.KeyVerificationServiceClient,
  keyId: string,
  secret: string,
): Promise<authV1.VerifyKeyResponse> {
  return new Promise((resolve, reject) =>
    client.verifyKey({ keyId, secret }, (err, res) => (err ? reject(err) : resolve(res))),
  );
}
