import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadHeaderProviderConfig } from '../config/header-provider.config';
import { HeadersService } from '../headers/headers.service';
import { HeaderProviderMetrics } from '../metrics/header-provider.metrics';
import { type ApiKey, type AuthClient, type IssuedToken, TokenExchangeError } from './auth-client';
import { TokenService } from './token.service';

class ManualClock {
  t = 1_000_000;
  timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  schedule(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((x) => x !== timer));
  }
  /** The delay of the one pending timer. */
  get pending(): number {
    expect(this.timers).toHaveLength(1);
    return this.timers[0]!.at - this.t;
  }
}

class FakeAuth {
  answers: (IssuedToken | TokenExchangeError)[] = [];
  keys: ApiKey[] = [];
  exchange(key: ApiKey): Promise<IssuedToken> {
    this.keys.push(key);
    const next = this.answers.shift();
    if (next === undefined) throw new Error('no answer queued');
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
  createRootKey(): Promise<ApiKey> {
    return Promise.resolve({ keyId: 'ak_dev', secret: 'dev-secret' });
  }
}

function setup(env: Record<string, string> = {}) {
  const source: Record<string, string> = {
    WORKLOAD_KEY_ID: 'ak_1',
    WORKLOAD_KEY_SECRET: 'secret-1',
    TOKEN_MIN_REMAINING_SECONDS: '60',
    STATIC_HEADERS: '{"x-mesh":"dev","bad name":"x","x-inject":"a\\r\\nb"}',
    ...env,
  };
  // An empty value in `env` removes the variable.
  const config = loadHeaderProviderConfig(
    Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')),
  );
  const clock = new ManualClock();
  const auth = new FakeAuth();
  const metrics = new HeaderProviderMetrics();
  const log = pino({ level: 'silent' });
  const tokens = new TokenService(config, auth as unknown as AuthClient, clock, metrics, log);
  const headers = new HeadersService(config, tokens, metrics, log);
  return { config, clock, auth, metrics, tokens, headers };
}

async function metric(metrics: HeaderProviderMetrics, name: string): Promise<string> {
  const text = await metrics.registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

describe('TokenService', () => {
  it('exchanges the workload key at start and renews when 60 s remain', async () => {
    const { clock, auth, tokens, headers, metrics } = setup();
    auth.answers.push({ accessToken: 'jwt-1', expiresIn: 300 });
    tokens.onModuleInit();
    expect(clock.pending).toBe(0);
    expect(headers.current()).toBeUndefined();
    await tokens.renew();
    expect(auth.keys).toEqual([{ keyId: 'ak_1', secret: 'secret-1' }]);
    expect(headers.current()).toEqual({ 'x-mesh': 'dev', 'x-workload-token': 'jwt-1' });
    expect(clock.pending).toBe(240_000);
    expect(await metric(metrics, 'header_provider_token_renewals_total')).toContain(' 1');
    expect(await metric(metrics, 'header_provider_invalid_headers_total')).toContain(' 2');
  });

  it('keeps the token through failures with a doubling backoff, and never serves it expired', async () => {
    const { clock, auth, tokens, headers, metrics } = setup({
      RENEW_BACKOFF_INITIAL_MS: '500',
      RENEW_BACKOFF_MAX_MS: '2000',
    });
    auth.answers.push({ accessToken: 'jwt-1', expiresIn: 120 });
    await tokens.renew();
    expect(clock.pending).toBe(60_000);
    clock.timers = [];
    clock.t += 60_000;
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      auth.answers.push(new TokenExchangeError('status 401 RevokedKey'));
      await tokens.renew();
      delays.push(clock.pending);
      clock.timers = [];
      expect(headers.current()?.['x-workload-token']).toBe('jwt-1');
    }
    expect(delays).toEqual([500, 1000, 2000, 2000]);
    expect(await metric(metrics, 'header_provider_token_renewal_failures_total')).toContain(
      'reason="status 401 RevokedKey"} 4',
    );
    clock.t += 60_000; // exp reached
    expect(tokens.current()).toBeUndefined();
    expect(headers.current()).toBeUndefined();
    auth.answers.push({ accessToken: 'jwt-2', expiresIn: 120 });
    await tokens.renew();
    expect(headers.current()?.['x-workload-token']).toBe('jwt-2');
  });

  it('renews at half-life when the lifetime is shorter than the margin', async () => {
    const { clock, auth, tokens } = setup({ TOKEN_MIN_REMAINING_SECONDS: '600' });
    auth.answers.push({ accessToken: 'jwt-1', expiresIn: 300 });
    await tokens.renew();
    expect(clock.pending).toBe(150_000);
  });

  it('stops renewing on shutdown', async () => {
    const { clock, auth, tokens } = setup();
    tokens.onModuleInit();
    tokens.onApplicationShutdown();
    expect(clock.timers).toHaveLength(0);
    auth.answers.push({ accessToken: 'jwt-1', expiresIn: 300 });
    await tokens.renew();
    expect(clock.timers).toHaveLength(0);
  });

  it('dev bootstrap: creates a root key once, then reuses it', async () => {
    const { auth, tokens } = setup({
      WORKLOAD_KEY_ID: '',
      WORKLOAD_KEY_SECRET: '',
      DEV_BOOTSTRAP_KEY: 'true',
    });
    auth.answers.push({ accessToken: 'a', expiresIn: 300 }, { accessToken: 'b', expiresIn: 300 });
    await tokens.renew();
    await tokens.renew();
    expect(auth.keys).toEqual([
      { keyId: 'ak_dev', secret: 'dev-secret' },
      { keyId: 'ak_dev', secret: 'dev-secret' },
    ]);
  });
});
