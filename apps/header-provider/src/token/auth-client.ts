import { Inject, Injectable } from '@nestjs/common';
import {
  HEADER_PROVIDER_CONFIG,
  type HeaderProviderConfig,
} from '../config/header-provider.config';

export interface IssuedToken {
  accessToken: string;
  /** Lifetime in seconds, as the auth service answered. */
  expiresIn: number;
}

export interface ApiKey {
  keyId: string;
  secret: string;
}

/** A failed exchange; `code` is safe to log (a status or the auth service's details code). */
export class TokenExchangeError extends Error {
  constructor(readonly code: string) {
    super(`token exchange failed: ${code}`);
    this.name = 'TokenExchangeError';
  }
}

/** The auth service's public HTTP API, as the header provider uses it. */
@Injectable()
export class AuthClient {
  constructor(@Inject(HEADER_PROVIDER_CONFIG) private readonly config: HeaderProviderConfig) {}

  /** POST /token with the key over HTTP Basic → a short-lived JWT. */
  async exchange(key: ApiKey): Promise<IssuedToken> {
    const basic = Buffer.from(`${key.keyId}:${key.secret}`).toString('base64');
    const res = await this.request('/token', {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
    });
    const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (res.status !== 200 && res.status !== 201) {
      const details = typeof body?.details === 'string' ? body.details.split(' ')[0] : '';
      throw new TokenExchangeError(`status ${res.status}${details ? ` ${details}` : ''}`);
    }
    const token = body?.access_token;
    const expiresIn = body?.expires_in;
    if (typeof token !== 'string' || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
      throw new TokenExchangeError('malformed token response');
    }
    return { accessToken: token, expiresIn };
  }

  /** Dev stack only: a new tenant's root key from GET /create-root-key. */
  async createRootKey(): Promise<ApiKey> {
    const res = await this.request('/create-root-key', { method: 'GET' });
    const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (res.status !== 200 || typeof body?.key_id !== 'string' || typeof body.secret !== 'string') {
      throw new TokenExchangeError(`create-root-key: status ${res.status}`);
    }
    return { keyId: body.key_id, secret: body.secret };
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(new URL(path, this.config.AUTH_URL), {
        ...init,
        signal: AbortSignal.timeout(this.config.TOKEN_REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      throw new TokenExchangeError(
        name === 'TimeoutError' ? 'timeout' : 'auth service unreachable',
      );
    }
  }
}
