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
