import { type JSONWebKeySet } from 'jose';
import { Agent, fetch, type Response } from 'undici';
import { AuthBackendUnavailable } from '../authn/authn-error';

/** Fetches the auth service's JWKS. Side effect behind a class so the cache logic is unit-testable. */
export abstract class JwksFetcher {
  /** Rejects with AuthBackendUnavailable when no usable key set could be fetched. */
  abstract fetch(): Promise<JSONWebKeySet>;
}

const MAX_JWKS_BYTES = 256 * 1024;

/**
 * GET of the JWKS URL with undici's fetch. With `ca` (AUTH_TLS_CA_FILE), https is verified
 * against that CA only (it replaces the system trust store); a certificate it did not sign,
 * or a name mismatch, fails the fetch and so fails closed.
 */
export class HttpJwksFetcher extends JwksFetcher {
  private readonly dispatcher: Agent;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    ca?: Buffer,
  ) {
    super();
    this.dispatcher = new Agent(ca !== undefined ? { connect: { ca } } : {});
  }

  /** Closes the connection pool (shutdown). */
  close(): Promise<void> {
    return this.dispatcher.close();
  }

  async fetch(): Promise<JSONWebKeySet> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
        dispatcher: this.dispatcher,
      });
    } catch (e) {
      throw new AuthBackendUnavailable('JWKS could not be fetched', { cause: e });
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new AuthBackendUnavailable(`JWKS fetch answered ${res.status}`);
    }
    const text = await res.text();
    if (text.length > MAX_JWKS_BYTES) throw new AuthBackendUnavailable('JWKS is too large');
    return parseJwks(text);
  }
}

export function parseJwks(text: string): JSONWebKeySet {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new AuthBackendUnavailable('JWKS is not JSON', { cause: e });
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === 'object')) {
    throw new AuthBackendUnavailable('JWKS has no keys array');
  }
  return { keys: keys as JSONWebKeySet['keys'] };
}
