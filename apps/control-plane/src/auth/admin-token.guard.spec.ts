import type { ExecutionContext, HttpException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { AdminTokenGuard } from './admin-token.guard';

const TOKEN = 'a-very-long-admin-token-0123456789';
const ctx = (authorization?: string) =>
  ({
    switchToHttp: () => ({ getRequest: () => ({ headers: { authorization } }) }),
  }) as unknown as ExecutionContext;

describe('AdminTokenGuard', () => {
  const guard = new AdminTokenGuard({ ADMIN_TOKEN: TOKEN });
  const status = (auth?: string) => {
    try {
      guard.canActivate(ctx(auth));
      return 200;
    } catch (e) {
      return (e as HttpException).getStatus();
    }
  };
  it('lets the right bearer token through', () => expect(status(`Bearer ${TOKEN}`)).toBe(200));
  it('refuses no header, another scheme, a prefix of the token and a longer one', () => {
    expect(status()).toBe(401);
    expect(status(`Basic ${TOKEN}`)).toBe(401);
    expect(status(`Bearer ${TOKEN.slice(0, -1)}`)).toBe(401);
    expect(status(`Bearer ${TOKEN}x`)).toBe(401);
    expect(status('Bearer ')).toBe(401);
  });
});
