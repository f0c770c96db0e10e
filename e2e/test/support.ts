import { request } from 'node:http';
import { expect } from 'vitest';

export interface RootKey {
  tenant: string;
  user_id: string;
  key_id: string;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  status: string;
  scopes: { resource: string; action: string }[];
  secret: string;
}

export interface EchoBody {
  command: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: string;
  message: string;
}

export interface ErrorBody {
  message: string;
  status: number;
  details: string;
}

export function basic(keyId: string, secret: string): string {
  return `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`;
}

export async function createRootKey(authUrl: string): Promise<RootKey> {
  const res = await fetch(`${authUrl}/create-root-key`);
  expect(res.status).toBe(200);
  return (await res.json()) as RootKey;
}

/** A JSON error response: status, content type, body shape; returns the body. */
export async function expectJsonError(
  res: Response,
  status: number,
  detailsCode: string,
): Promise<ErrorBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as ErrorBody;
  expect(body.status).toBe(status);
  expect(body.details.split(' ')[0]).toBe(detailsCode);
  return body;
}

export interface RawResponse {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP/1.1 request with the request target sent byte for byte (fetch and URL would
 * normalise `.`, `..`, `\` and case before sending, hiding exactly what an attacker sends).
 */
export function rawRequest(
  port: number,
  target: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: target, method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Requests Envoy has sent to a cluster (admin counter, read live). */
export async function upstreamRequests(adminUrl: string, cluster = 'echo'): Promise<number> {
  const name = `cluster.${cluster}.upstream_rq_total`;
  const res = await fetch(`${adminUrl}/stats?filter=${encodeURIComponent(`^${name}$`)}`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`${name} not in Envoy's stats`);
  return Number(line.slice(name.length + 1).trim());
}
