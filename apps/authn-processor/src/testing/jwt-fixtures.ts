// Unit-test helpers: keys generated in-test with jose, a JWKS fetcher double (not built into dist).
import {
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { JwksFetcher } from '../jwt/jwks.fetcher';

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: Parameters<SignJWT['sign']>[0];
  jwk: JWK;
}

export async function testKey(kid: string, alg = 'ES256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export const ISSUER = 'edge-auth';
export const AUDIENCE = 'edge';
export const NOW_S = 1_700_000_000;

export function sign(
  key: TestKey,
  claims: JWTPayload = {},
  over: { iss?: string; aud?: string; exp?: number; kid?: string } = {},
): Promise<string> {
  return new SignJWT({ tenant: 't1', scopes: ['echo:read'], key_id: 'k1', ...claims })
    .setProtectedHeader({ alg: key.alg, kid: over.kid ?? key.kid, typ: 'JWT' })
    .setSubject('u1')
    .setIssuer(over.iss ?? ISSUER)
    .setAudience(over.aud ?? AUDIENCE)
    .setIssuedAt(NOW_S - 10)
    .setExpirationTime(over.exp ?? NOW_S + 300)
    .sign(key.privateKey);
}

export class FakeJwksFetcher extends JwksFetcher {
  calls = 0;
  fail: Error | undefined;
  constructor(public keys: JWK[]) {
    super();
  }
  fetch(): Promise<JSONWebKeySet> {
    this.calls++;
    if (this.fail !== undefined) return Promise.reject(this.fail);
    return Promise.resolve({ keys: this.keys });
  }
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A token with `alg: none` (unsigned). */
export function unsignedToken(payload: JWTPayload, kid = 'k'): string {
  return `${b64url({ alg: 'none', kid, typ: 'JWT' })}.${b64url(payload)}.`;
}
